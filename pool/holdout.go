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
//
// The cap counts outlier hold-outs only, as Envoy's max_ejection_percent
// counts outlier ejections: backends UNHEALTHY with reason
// passive_ejection or silent whose active checks have not also failed
// unhealthy_threshold times in a row since. A backend the checks find
// down would be out without the request path (a passive ejection takes
// the checks' reason then; a silent one keeps its reason, so that the
// first answer brings it back, but stops counting), and a backend down
// by its checks, draining or drained is not counted at all: none of them
// may use up the share of the pool that passive detection is allowed to
// take out. The pool's size is its backends less those a reload or a
// discovery source is removing.
func (p *Pool) underHoldOutCapLocked() bool {
	held, members := 0, 0
	for _, b := range p.backends {
		if b.removed || isRemoval(b.m.hold) {
			continue
		}
		members++
		if p.countsAsHeldOutLocked(b) {
			held++
		}
	}
	limit := members * p.res.Passive.MaxEjectedPercent / 100
	return held < limit
}

// countsAsHeldOutLocked reports whether b counts against
// max_ejected_percent: held out by a request-path signal, and not also
// failed by its active checks (see underHoldOutCapLocked).
func (p *Pool) countsAsHeldOutLocked(b *Backend) bool {
	return b.m.state == StateUnhealthy &&
		(b.m.reason == ReasonPassiveEjection || b.m.reason == ReasonSilent) &&
		b.m.failures < p.thresholds.Unhealthy
}

// checkedLocked is called after a probe result that changed no state: a
// held-out backend whose checks have now failed unhealthy_threshold times
// in a row stops counting against the cap, so a refused hold-out may be
// allowed now.
func (p *Pool) checkedLocked(b *Backend) {
	if b.m.state == StateUnhealthy && b.m.reason == ReasonSilent && b.m.failures == p.thresholds.Unhealthy {
		p.changedLocked()
	}
}

// Failing reports whether passive detection judges b failing: its last
// consecutive_failures answers or more, in a row, failed (5xx, transport
// errors, timeouts), a verdict that still stands when the ejection was
// refused (max_ejected_percent); or it is held out (passive_ejection,
// silent) and a request reached it all the same (panic or fail-open
// routing send requests to UNHEALTHY backends). The proxy retries such a
// backend's 5xx answers on another backend (see proxy.RetryPolicy), and
// it sheds most of its picks (shed). False when
// passive detection is off. Lock-free and allocation-free.
func (b *Backend) Failing() bool {
	f := b.pool.signals.ejectFailures.Load()
	return f > 0 && (b.consecFailures.Load() >= f || b.heldOut.Load())
}

// failingKeep: a Failing backend keeps one in failingKeep of the picks
// that land on it (10%), enough for its first good answer to end its
// streak (Failing turns false and it has its whole share again), few
// enough that the retries of its 5xx stay well inside the retry budget.
const failingKeep = 10

// shed is the pick for a request the policy gave to b, which is Failing
// (its ejection was refused, a HEALTHY backend in normal mode; or it is
// held out by its traffic and panic or fail-open routing reached it):
// nine in ten such picks go instead to another backend of s drawn at
// random, one not avoided and not Failing itself. Panic routing spreads
// load over backends the checks may have judged wrongly; a backend this
// pool's own traffic shows failing is not one of those, and sending it
// a full share made a burst of 5xx whenever panic routing coincided with
// an ejection (72 failures in half a second in a 1-hour chaos run, where
// the retries of its 5xx ran out of budget). When every other backend fails too
// (a pool-wide failure, what max_ejected_percent is there for) nothing
// moves: b keeps its request. Lock-free and allocation-free.
func (p *Pool) shed(s *snapshot, b *Backend, avoid *Avoid) *Backend {
	if b.failingPicks.Add(1)%failingKeep == 0 {
		return b
	}
	if x := fromRandomPlace(s.backends, shedLooks, func(x *Backend) bool {
		return x != b && !x.Failing() && (avoid == nil || !avoid.Has(x))
	}); x != nil {
		return x
	}
	return b
}

// shedLooks bounds the backends shed looks at for another (from a random
// place in the snapshot, in order): a request never scans a large pool.
const shedLooks = 8
