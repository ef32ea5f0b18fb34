package pool

import (
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// applyLocked publishes a decided change: the lock-free state mirror, the
// eligible snapshot when eligibility changed, the drain timer, and the
// Transition, posted to the outbox (logged and handed to OnTransition by
// flush). The pool's lock must be held.
func (p *Pool) applyLocked(b *Backend, c change, probeLatency time.Duration) {
	b.state.Store(uint32(c.to))
	p.changedLocked()
	b.silent.Store(c.to == StateUnhealthy && c.reason == ReasonSilent)
	b.heldOut.Store(heldOutByTraffic(c.to, c.reason))
	b.noAnswer.Store(outForNoAnswer(c.to, c.reason))
	if c.to == StateHealthy {
		p.startRampLocked(b)
	}
	if (c.from == StateHealthy) != (c.to == StateHealthy) || c.from == StateUnhealthy || c.to == StateUnhealthy {
		p.republishSoonLocked()
	}
	if c.from == StateDraining && c.to != StateDraining {
		b.stopDrainTimerLocked()
	}
	p.postLocked(notice{kind: noticeTransition, t: Transition{
		Pool: p.name, Backend: b.address, Target: b,
		From: c.from, To: c.to, Reason: c.reason, Detail: c.detail, By: c.by,
		At: b.m.since, ProbeLatency: probeLatency, InFlight: b.inFlight.Load(),
	}})
}

// republishLocked rebuilds and swaps the eligible snapshot: the HEALTHY
// backends, or, in panic or fail-open mode, every HEALTHY or UNHEALTHY one
// but those held out as silent (they answer nothing: a request sent there
// would wait for the hang, and silent detection does not run outside
// normal mode), unless every candidate is silent. DRAINING, DRAINED and
// INITIAL backends never get new requests. It is
// O(n) in the pool's backends (two passes over their states, one
// allocation of the set, the policy's NewPicker): the cost of a change,
// paid once per change, never per request.
func (p *Pool) republishLocked() {
	p.publishPending.Store(false)
	p.lastPublish = time.Now()
	healthy, checked := 0, 0
	for _, b := range p.backends {
		switch b.State() {
		case StateHealthy:
			healthy++
			checked++
		case StateUnhealthy:
			checked++
		}
	}
	mode, size := modeNormal, healthy
	switch {
	case checked == 0:
	case healthy == 0 && p.res.FailClosed:
		mode, size = modeFailClosed, 0
	case healthy == 0:
		mode, size = modeFailOpen, checked
	case 100*healthy < p.res.PanicThreshold*checked:
		mode, size = modePanic, checked
	}
	var set []*Backend
	silentOut := false
	if size > 0 {
		set = make([]*Backend, 0, size)
		for _, b := range p.backends {
			st := b.State()
			switch {
			case st == StateHealthy:
				set = append(set, b)
			case mode != modeNormal && st == StateUnhealthy && b.silent.Load():
				silentOut = true
			case mode != modeNormal && st == StateUnhealthy:
				set = append(set, b)
			}
		}
		if len(set) == 0 && silentOut { // every candidate is silent: route to them all the same
			silentOut = false
			for _, b := range p.backends {
				if b.State() == StateUnhealthy {
					set = append(set, b)
				}
			}
		}
	}
	s := newSnapshot(set, mode, p.policy, p)
	s.silentOut = silentOut
	if p.res.SlowStart > 0 && mode == modeNormal {
		s.setRamp(p.res.SlowStart, p.now())
	}
	if old := p.snap.Load(); old.mode != mode {
		p.logLocked(zapcore.WarnLevel, "pool routing mode changed", zap.String("pool", p.name),
			zap.String("from", old.mode.String()), zap.String("to", mode.String()),
			zap.Int("healthy", healthy), zap.Int("checked", checked))
	}
	p.snap.Store(s)
}

// startRampLocked starts b's slow start if the pool has one and another
// backend was already serving (nobody to share with means no ramp).
func (p *Pool) startRampLocked(b *Backend) {
	b.rampStart.Store(0)
	if p.res.SlowStart <= 0 {
		return
	}
	for _, x := range p.backends {
		if x != b && x.State() == StateHealthy {
			b.rampCredit.Store(0)
			b.rampTick.Store(p.rampTicks.Load())
			b.rampStart.Store(max(p.now(), 1))
			return
		}
	}
}
