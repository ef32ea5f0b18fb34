package accesslog

import (
	"context"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// DefaultBuffer is Options.Buffer's default: how many records may wait
// for the writer. At the default bound of each record's fields (about
// 3.5 KiB) it holds at most about 3.5 MiB; at 1,000 requests per second
// it covers a writer stalled for a second.
const DefaultBuffer = 1024

// batchBytes is how much formatted output the writer gathers before one
// write: whatever is queued, up to this, goes out in one system call.
const batchBytes = 64 << 10

// FlushInterval is how often the writer wakes to write what is queued
// (sooner when the queue is half full): a line reaches its output at
// most this late, and the request path never wakes the writer for one
// line (a goroutine wake-up per request would cost more than the line).
const FlushInterval = 50 * time.Millisecond

// Format is the layout of the lines.
type Format uint8

const (
	// FormatJSON writes one JSON object per line with every field of
	// Record (AppendJSON).
	FormatJSON Format = iota
	// FormatCombined writes the Apache/NGINX combined layout
	// (AppendCombined).
	FormatCombined
)

// Options configure a Logger.
type Options struct {
	// Output is "stdout", "stderr" or the path of a file, opened for
	// appending (created with mode 0644 if missing). Ignored when Writer
	// is set.
	Output string
	// Writer, when not nil, receives the lines instead of Output (tests,
	// embedding); Reopen then does nothing. Its Write is only ever called
	// from the Logger's writer goroutine.
	Writer io.Writer
	// Format is the lines' layout (default FormatJSON).
	Format Format
	// Skip2xx is the share of 2xx lines not written, 0..1 (default 0:
	// every line is written). The lines kept are spread evenly (every
	// tenth with 0.9), not drawn at random; non-2xx lines are always
	// written.
	Skip2xx float64
	// Buffer is how many records may wait for the writer (default
	// DefaultBuffer); one more is dropped and counted.
	Buffer int
	// Log receives the Logger's own problems (a failed write or reopen,
	// once per run of failures); nil logs nothing.
	Log *zap.Logger
}

// Stats are a Logger's counters since it was made.
type Stats struct {
	// Written counts the lines written.
	Written uint64 `json:"written"`
	// Dropped counts the records dropped because the queue was full (the
	// writer is slower than the traffic) or the Logger closed.
	Dropped uint64 `json:"dropped"`
	// Failed counts the lines whose write failed (a full disk, a closed
	// pipe).
	Failed uint64 `json:"failed"`
	// Sampled counts the 2xx lines left out by Skip2xx.
	Sampled uint64 `json:"sampled_out"`
}

// Logger writes access log lines from one goroutine of its own. Create
// it with New and stop it with Close. Log, Reopen and Stats are safe for
// concurrent use; Log never blocks and, once warm, never allocates. A nil
// *Logger logs nothing.
type Logger struct {
	format Format
	keep   uint64 // share of 2xx lines written, in millionths
	log    *zap.Logger

	free  chan *slot // slots the request path may fill
	queue chan *slot // filled slots for the writer; never full

	reopen    chan struct{} // cap 1: a pending Reopen
	kick      chan struct{} // cap 1: the queue is half full, write now
	stop      chan struct{} // closed by Close
	done      chan struct{} // closed when the writer has returned
	closeOnce sync.Once
	closed    atomic.Bool

	n2xx                              atomic.Uint64 // 2xx lines seen, for the sampling
	written, dropped, failed, sampled atomic.Uint64

	out *output // touched only by the writer goroutine after New
}

// slot is one queued record with the buffer that owns its bytes.
type slot struct {
	rec Record
	buf []byte
}

// New opens o.Output (unless o.Writer is set) and starts the writer
// goroutine. It fails when the file cannot be opened.
func New(o Options) (*Logger, error) {
	out, err := openOutput(o.Output, o.Writer)
	if err != nil {
		return nil, err
	}
	if o.Buffer <= 0 {
		o.Buffer = DefaultBuffer
	}
	if o.Skip2xx < 0 || o.Skip2xx > 1 {
		out.close()
		return nil, fmt.Errorf("accesslog: Skip2xx %v is not in 0..1", o.Skip2xx)
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	l := &Logger{
		format: o.Format,
		keep:   uint64(math.Round((1 - o.Skip2xx) * 1e6)),
		log:    o.Log,
		free:   make(chan *slot, o.Buffer),
		queue:  make(chan *slot, o.Buffer),
		reopen: make(chan struct{}, 1),
		kick:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		out:    out,
	}
	for range o.Buffer {
		l.free <- &slot{}
	}
	go l.run()
	return l, nil
}

// Log queues r to be written, or drops it (counted) when the queue is
// full or the Logger is closed, or leaves it out when the 2xx sampling
// says so. r is copied: its byte slices may be reused once Log returns.
// It never blocks; once every slot's buffer has grown to its records'
// size it does not allocate. Safe for concurrent use.
func (l *Logger) Log(r *Record) {
	if l == nil {
		return
	}
	if r.Status >= 200 && r.Status < 300 && l.keep < 1e6 && !l.sample() {
		l.sampled.Add(1)
		return
	}
	if l.closed.Load() {
		l.dropped.Add(1)
		return
	}
	var s *slot
	select {
	case s = <-l.free:
	default:
		l.dropped.Add(1)
		return
	}
	s.fill(r)
	l.queue <- s // never blocks: there are as many places as slots
	if len(l.queue) >= cap(l.queue)/2 {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

// sample reports whether the next 2xx line is kept: the n-th is kept when
// floor(n*keep) moves, which spreads the kept lines evenly.
func (l *Logger) sample() bool {
	n := l.n2xx.Add(1)
	return n*l.keep/1e6 != (n-1)*l.keep/1e6
}

// fill copies r into s, its byte fields into s.buf (each cut to its
// bound).
func (s *slot) fill(r *Record) { s.buf = r.CopyTo(&s.rec, s.buf[:0]) }

// Reopen asks the writer to close its file and open the same path again
// (after logrotate moved it away), between two batches; it returns at
// once. Writing to stdout, stderr or an Options.Writer it does nothing.
// Safe for concurrent use; calls made while one is pending merge.
func (l *Logger) Reopen() {
	if l == nil {
		return
	}
	select {
	case l.reopen <- struct{}{}:
	default:
	}
}

// Stats returns the Logger's counters (each read atomically, not all at
// one instant). Safe for concurrent use.
func (l *Logger) Stats() Stats {
	if l == nil {
		return Stats{}
	}
	return Stats{Written: l.written.Load(), Dropped: l.dropped.Load(),
		Failed: l.failed.Load(), Sampled: l.sampled.Load()}
}

// Close stops taking records, lets the writer write what is queued and
// closes the file. It waits until that is done or ctx is done (a writer
// stuck on a dead disk is then left behind, and ctx.Err() returned).
// Safe to call more than once and concurrently.
func (l *Logger) Close(ctx context.Context) error {
	if l == nil {
		return nil
	}
	l.closeOnce.Do(func() {
		l.closed.Store(true)
		close(l.stop)
	})
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
