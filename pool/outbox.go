package pool

import (
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// A pool decides under its lock and speaks outside it. What a writer
// decided that must be said (a log line, a transition for the log and the
// OnTransition hook) is posted to the pool's outbox with the lock held,
// and delivered by flush once the lock is released, so a slow log sink or
// hook never stalls the pool's other writers.

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
func (p *Pool) postLocked(n notice) { p.outbox = append(p.outbox, n) }

// logLocked queues a log line.
func (p *Pool) logLocked(level zapcore.Level, msg string, fields ...zap.Field) {
	p.postLocked(notice{kind: noticeLog, level: level, msg: msg, fields: fields})
}

// flush delivers what the outbox holds. Call it without the pool's lock.
func (p *Pool) flush() {
	p.mu.Lock()
	batch := p.outbox
	p.outbox = nil
	p.mu.Unlock()
	for i := range batch {
		p.deliver(&batch[i])
	}
}

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
		p.log.Info("backend state changed",
			zap.String("pool", t.Pool),
			zap.String("backend", t.Backend),
			zap.Stringer("from", t.From),
			zap.Stringer("to", t.To),
			zap.String("reason", string(t.Reason)),
			zap.String("detail", t.Detail),
			zap.Int64("in_flight", t.InFlight),
			zap.Duration("probe_latency", t.ProbeLatency),
		)
	}
	if p.onTransition != nil {
		p.onTransition(n.t)
	}
}
