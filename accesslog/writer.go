package accesslog

import (
	"time"

	"go.uber.org/zap"
)

// run is the writer goroutine: every FlushInterval, or at once when Log
// finds the queue half full, it formats what is queued in batches of up
// to batchBytes and writes each batch with one call; it reopens the file
// when asked between batches, and on Close writes what is left and
// closes the file.
func (l *Logger) run() {
	defer close(l.done)
	tick := time.NewTicker(FlushInterval)
	defer tick.Stop()
	buf := make([]byte, 0, batchBytes+4096)
	failing := false
	flush := func(n int) {
		if n == 0 {
			return
		}
		if err := l.out.write(buf); err != nil {
			l.failed.Add(uint64(n))
			if !failing {
				l.log.Warn("access log write failed; lines are lost until a write succeeds",
					zap.String("output", l.out.name), zap.Error(err))
			}
			failing = true
		} else {
			l.written.Add(uint64(n))
			failing = false
		}
		buf = buf[:0]
	}
	// batch formats s and whatever else is queued, up to batchBytes, and
	// writes it.
	batch := func(s *slot) {
		n := 0
		for s != nil {
			buf = l.appendLine(buf, &s.rec)
			l.free <- s
			n++
			s = nil
			if len(buf) < batchBytes {
				select {
				case s = <-l.queue:
				default:
				}
			}
		}
		flush(n)
	}
	drain := func() {
		for {
			select {
			case s := <-l.queue:
				batch(s)
			default:
				return
			}
		}
	}
	for {
		select {
		case <-tick.C:
			drain()
		case <-l.kick:
			drain()
		case <-l.reopen:
			drain() // what was queued before the signal goes to the old file
			if err := l.out.reopen(); err != nil {
				l.log.Warn("access log reopen failed; still writing to the file open before",
					zap.String("output", l.out.name), zap.Error(err))
			} else if l.out.path != "" {
				l.log.Info("access log reopened", zap.String("output", l.out.name))
			}
		case <-l.stop:
			drain()
			l.out.close()
			return
		}
	}
}

// appendLine appends r's line in the Logger's format.
func (l *Logger) appendLine(dst []byte, r *Record) []byte {
	if l.format == FormatCombined {
		return AppendCombined(dst, r)
	}
	return AppendJSON(dst, r)
}
