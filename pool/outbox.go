package pool

import (
	"sync/atomic"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// A pool decides under its lock and speaks outside it. What a writer
// decided that must be said (a log line, a transition for the log and the
// OnTransition hook) is posted to the pool's outbox with the lock held,
// and delivered by flush once the lock is released, so a slow log sink or
// hook never stalls the pool's other writers.
//
// Delivery is in the order of posting, which is the order the state
// machine applied the changes: writers from many goroutines (checkers,
// the request path, the watchdog, drain timers, reloads) post under the
// one lock, and one goroutine at a time delivers. A flush that finds
// another goroutine delivering leaves its notices to it and returns at
// once (one atomic add), so no writer waits for another's hook; the
// deliverer looks again before it stops, so nothing posted is left
// behind.

// noticeKind says what a notice carries.
type noticeKind uint8

const (
	// noticeTransition: t is logged ("backend state changed") and handed
	// to OnTransition.
	noticeTransition noticeKind = iota
	// noticeRemoved: t (Removed set) is logged ("backend removed") and
	// handed to OnTransition.
	noticeRemoved
	// noticeLog: one log line (level, msg, fields).
	noticeLog
)

// outbox holds what the pool has decided and not yet said.
type outbox struct {
	// queue is posted to with the pool's lock held.
	queue []notice
	// spare is the deliverer's empty buffer, swapped with queue to take
	// a batch; only the deliverer touches it.
	spare []notice
	// flushes counts flush calls not yet served: whoever raises it from
	// 0 delivers, until it is back to 0.
	flushes atomic.Int64
}

// notice is one entry of the outbox.
type notice struct {
	kind   noticeKind
	t      Transition
	level  zapcore.Level
	msg    string
	fields []zap.Field
}

// postLocked queues n for delivery; the pool's lock must be held. The
// writer calls flush after unlocking.
func (p *Pool) postLocked(n notice) { p.out.queue = append(p.out.queue, n) }

// logLocked queues a log line.
func (p *Pool) logLocked(level zapcore.Level, msg string, fields ...zap.Field) {
	p.postLocked(notice{kind: noticeLog, level: level, msg: msg, fields: fields})
}

// flush delivers what the outbox holds, in order, unless another
// goroutine is delivering (it then delivers these too). Call it without
// the pool's lock, after posting. A hook may call the pool's methods: the
// notices they post are delivered after the current one.
func (p *Pool) flush() {
	if p.out.flushes.Add(1) != 1 {
		return // the deliverer sees the count and looks again
	}
	served := int64(1)
	for {
		for p.deliverBatch() {
		}
		// Flushes that came while we delivered posted first: look
		// again for them; none came once the count is back to 0.
		if served = p.out.flushes.Add(-served); served == 0 {
			return
		}
	}
}

// deliverBatch takes what is queued and delivers it; false when nothing
// was. Only the deliverer calls it.
func (p *Pool) deliverBatch() bool {
	p.mu.Lock()
	batch := p.out.queue
	p.out.queue = p.out.spare
	p.mu.Unlock()
	for i := range batch {
		p.deliver(&batch[i])
		batch[i] = notice{} // keep no backend or field alive
	}
	if cap(batch) <= maxSpare {
		p.out.spare = batch[:0]
	} else {
		p.out.spare = nil // a burst's buffer is not kept
	}
	return len(batch) > 0
}

// maxSpare is the largest buffer the outbox keeps between batches.
const maxSpare = 64

// deliver says one notice: its log line, then, for a transition, the
// OnTransition hook.
func (p *Pool) deliver(n *notice) {
	switch n.kind {
	case noticeLog:
		if ce := p.log.Check(n.level, n.msg); ce != nil {
			ce.Write(n.fields...)
		}
		return
	case noticeRemoved:
		p.log.Info("backend removed", zap.String("pool", n.t.Pool), zap.String("backend", n.t.Backend))
	default:
		t := &n.t
		by := zap.Skip()
		if t.By != "" {
			by = zap.String("by", t.By)
		}
		p.log.Info("backend state changed",
			zap.String("pool", t.Pool),
			zap.String("backend", t.Backend),
			zap.Stringer("from", t.From),
			zap.Stringer("to", t.To),
			zap.String("reason", string(t.Reason)),
			zap.String("detail", t.Detail),
			zap.Int64("in_flight", t.InFlight),
			zap.Duration("probe_latency", t.ProbeLatency),
			by,
		)
	}
	if p.onTransition != nil {
		p.onTransition(n.t)
	}
}
