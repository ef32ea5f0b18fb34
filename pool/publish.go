package pool

import (
	"time"

	"go.uber.org/zap"
)

// applyLocked publishes a decided change: the lock-free state mirror, the
// eligible snapshot when eligibility changed, the drain timer, and the log
// line. The pool's lock must be held.
func (p *Pool) applyLocked(b *Backend, c change, probeLatency time.Duration) Transition {
	b.state.Store(uint32(c.to))
	if (c.from == StateHealthy) != (c.to == StateHealthy) {
		p.republishLocked()
	}
	if c.from == StateDraining && c.to != StateDraining {
		b.stopDrainTimerLocked()
	}
	t := Transition{
		Pool: p.name, Backend: b.address, Target: b,
		From: c.from, To: c.to, Reason: c.reason, Detail: c.detail,
		At: b.m.since, ProbeLatency: probeLatency, InFlight: b.inFlight.Load(),
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
	)
	return t
}

// republishLocked rebuilds and swaps the eligible snapshot.
func (p *Pool) republishLocked() {
	var eligible []*Backend
	for _, b := range p.backends {
		if b.State() == StateHealthy {
			eligible = append(eligible, b)
		}
	}
	p.snap.Store(newSnapshot(eligible, p.policy))
}

// emit hands transitions to the OnTransition hook, outside the lock.
func (p *Pool) emit(ts ...Transition) {
	if p.onTransition == nil {
		return
	}
	for _, t := range ts {
		p.onTransition(t)
	}
}
