package pool

import (
	"fmt"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// ErrNotDrained is returned by Undrain for a backend no operator drained.
var ErrNotDrained = fmt.Errorf("pool: backend was not drained by an operator")

// Drain takes the backend at address out of rotation on an operator's
// request (reason admin_drain): no new request goes to it, the ones it has
// finish (or are cancelled when deregistration_delay runs out), and checks
// cannot bring it back until Undrain. Draining a backend that is already
// draining only holds it. It returns ErrUnknownBackend for an address the
// pool does not hold.
func (p *Pool) Drain(address string) error {
	return p.takeOut(address, ReasonAdminDrain, "")
}

// DrainBy is Drain on behalf of the fleet member by (an operator's drain
// issued through another lb instance): the transition and /status name it.
func (p *Pool) DrainBy(address, by string) error {
	return p.takeOut(address, ReasonAdminDrain, by)
}

// Undrain lifts an operator's drain: the backend starts over as INITIAL and
// its next passing check puts it back in rotation. It returns
// ErrUnknownBackend or ErrNotDrained.
func (p *Pool) Undrain(address string) error { return p.UndrainBy(address, "") }

// UndrainBy is Undrain on behalf of the fleet member by.
func (p *Pool) UndrainBy(address, by string) error {
	p.mu.Lock()
	b := p.findLocked(address)
	if b == nil {
		p.mu.Unlock()
		return fmt.Errorf("%w: %s in %s", ErrUnknownBackend, address, p.name)
	}
	c, ok := b.m.undrain(time.Now())
	if !ok {
		p.mu.Unlock()
		return fmt.Errorf("%w: %s in %s", ErrNotDrained, address, p.name)
	}
	c.by, b.m.by = by, by
	p.applyLocked(b, c, 0)
	p.mu.Unlock()
	p.flush()
	return nil
}

// Remove takes the backend at address out for good (reason
// removed_from_config): it drains like any other, and once its drain ends
// the pool forgets it (the last Transition has Removed set). It returns
// ErrUnknownBackend for an address the pool does not hold.
func (p *Pool) Remove(address string) error {
	return p.takeOut(address, ReasonRemovedFromConfig, "")
}

// RemoveDiscovered is Remove for a backend the pool's discovery sources no
// longer list (reason removed_from_discovery).
func (p *Pool) RemoveDiscovered(address string) error {
	return p.takeOut(address, ReasonRemovedFromDiscovery, "")
}

// takeOut is Drain and Remove; by is the fleet member acting ("" here).
func (p *Pool) takeOut(address string, reason Reason, by string) error {
	p.mu.Lock()
	b := p.findLocked(address)
	if b == nil {
		p.mu.Unlock()
		return fmt.Errorf("%w: %s in %s", ErrUnknownBackend, address, p.name)
	}
	if c, ok := b.m.drain(reason, time.Now()); ok {
		c.by, b.m.by = by, by
		p.applyLocked(b, c, 0)
	}
	p.afterDrainStartLocked(b)
	p.mu.Unlock()
	p.flush()
	return nil
}

// afterDrainStartLocked follows a backend's entry into DRAINING (or a hold
// on one already out): with nothing in flight the drain ends at once;
// otherwise the deregistration timer starts. A removed backend whose drain
// has ended is forgotten.
func (p *Pool) afterDrainStartLocked(b *Backend) {
	if c, ok := b.m.drained(b.inFlight.Load(), time.Now()); ok {
		p.applyLocked(b, c, 0)
	} else if b.m.state == StateDraining && b.drainTimer == nil {
		p.armDrainTimerLocked(b)
	}
	p.forgetIfRemovedLocked(b)
}

// finishDrain moves b from DRAINING to DRAINED once nothing is in flight
// (called by Release when the count reaches 0).
func (p *Pool) finishDrain(b *Backend) {
	p.mu.Lock()
	c, ok := b.m.drained(b.inFlight.Load(), time.Now())
	if ok = ok && !b.removed; ok {
		p.applyLocked(b, c, 0)
		p.forgetIfRemovedLocked(b)
	}
	p.mu.Unlock()
	if ok {
		p.flush()
	}
}

// armDrainTimerLocked starts b's deregistration timer.
func (p *Pool) armDrainTimerLocked(b *Backend) {
	if p.closed {
		return
	}
	b.drainGen++
	gen := b.drainGen
	b.drainDeadline = time.Now().Add(p.deregDelay)
	b.drainTimer = time.AfterFunc(p.deregDelay, func() { p.expireDrain(b, gen) })
}

// expireDrain ends b's drain when its deregistration delay ran out with
// requests still in flight. The Transition (reason deregistration_timeout,
// InFlight the count) tells the wiring to cancel them.
func (p *Pool) expireDrain(b *Backend, gen uint64) {
	p.mu.Lock()
	if gen != b.drainGen || b.removed || p.closed {
		p.mu.Unlock()
		return
	}
	b.drainTimer = nil
	n := b.inFlight.Load()
	c, ok := b.m.expire(n, time.Now())
	if ok {
		p.logLocked(zapcore.WarnLevel, "deregistration delay over: cancelling in-flight requests",
			zap.String("pool", p.name), zap.String("backend", b.address),
			zap.Int64("in_flight", n), zap.Duration("deregistration_delay", p.deregDelay))
		p.applyLocked(b, c, 0)
		p.forgetIfRemovedLocked(b)
	}
	p.mu.Unlock()
	if ok {
		p.flush()
	}
}

// forgetIfRemovedLocked drops a removed backend whose drain has ended and
// posts its last Transition (Removed set).
func (p *Pool) forgetIfRemovedLocked(b *Backend) {
	if !isRemoval(b.m.hold) || b.m.state != StateDrained || b.removed {
		return
	}
	b.removed = true
	p.members.Add(1)
	b.stopDrainTimerLocked()
	p.changedLocked()
	for i, x := range p.backends {
		if x == b {
			// A new array: the old one stays as RangeBackends read it.
			p.backends = append(p.backends[:i:i], p.backends[i+1:]...)
			break
		}
	}
	delete(p.byAddress, b.address)
	p.postLocked(notice{kind: noticeRemoved, t: Transition{
		Pool: p.name, Backend: b.address, Target: b,
		From: StateDrained, To: StateDrained, Reason: b.m.hold,
		At: time.Now(), InFlight: b.inFlight.Load(), Removed: true,
	}})
}

// stopDrainTimerLocked cancels b's deregistration timer, if any.
func (b *Backend) stopDrainTimerLocked() {
	if b.drainTimer != nil {
		b.drainTimer.Stop()
		b.drainTimer = nil
	}
	b.drainGen++
	b.drainDeadline = time.Time{}
}
