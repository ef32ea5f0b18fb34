package pool

// Passive ejection and silent detection hold a HEALTHY backend out of
// rotation, within max_ejected_percent. When the pool refuses (the cap is
// reached, a one-backend pool, a backend that is not HEALTHY), the refusal
// is remembered until the pool changes, so a backend that keeps failing
// costs its requests two atomic loads, not the pool's lock, a scan of the
// backends and a formatted detail each.

// mayHoldOutLocked reports whether b may be held out by a request-path
// signal now: it is HEALTHY, still in the pool, and one more backend held
// out stays within max_ejected_percent. A refusal is remembered (see
// holdOutRefused) until the pool changes.
func (p *Pool) mayHoldOutLocked(b *Backend) bool {
	if !b.removed && b.m.state == StateHealthy && p.underHoldOutCapLocked() {
		return true
	}
	b.holdOutRefusedAt.Store(p.holdOutGen.Load() + 1)
	return false
}

// holdOutRefused reports whether a hold-out of b was refused and nothing
// that could change the answer happened since. Lock-free and
// allocation-free.
func (p *Pool) holdOutRefused(b *Backend) bool {
	return b.holdOutRefusedAt.Load() == p.holdOutGen.Load()+1
}

// changedLocked forgets every remembered refusal: a backend changed state,
// one was added or forgotten, or the settings changed. The pool's lock
// must be held.
func (p *Pool) changedLocked() { p.holdOutGen.Add(1) }

// underHoldOutCapLocked reports whether one more backend may be held out
// by a request-path signal under max_ejected_percent (rounded down, so a
// one-backend pool never is).
func (p *Pool) underHoldOutCapLocked() bool {
	held := 0
	for _, b := range p.backends {
		if b.m.state == StateUnhealthy && (b.m.reason == ReasonPassiveEjection || b.m.reason == ReasonSilent) {
			held++
		}
	}
	limit := len(p.backends) * p.res.Passive.MaxEjectedPercent / 100
	return held < limit
}
