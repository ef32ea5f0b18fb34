package pool

import "time"

// Rescuable reports whether the requests waiting on b should be rescued:
// sent again to another backend and their try at b abandoned. It is true
// while b is out because it does not answer (UNHEALTHY with reason
// silent or passive_ejection: its own traffic went unanswered or failed;
// or with reason timeout: its health checks got no answer either) and
// the pool routes normally, so that in panic or fail-open mode, where
// UNHEALTHY backends get requests on purpose, nothing is moved; except a
// silent backend that panic or fail-open routing leaves out (see
// republishLocked): the requests waiting on it are moved too. A backend
// whose checks fail with an answer (a status, a reset, a refusal) is not
// Rescuable: it answers, or its connections fail on their own, and its
// waiting requests get what it sends. The proxy reads it once per
// rescuable try, after the try is registered as waiting (see
// proxy.BackendClient.RescueWaiting). Lock-free and allocation-free.
func (b *Backend) Rescuable() bool {
	if !b.noAnswer.Load() {
		return false
	}
	s := b.pool.snap.Load()
	return s.mode == modeNormal || (s.silentOut && b.silent.Load())
}

// AcquireHealthyAt is AcquireAt for a rescue: it returns a HEALTHY
// backend not in avoid, already counted in flight, or nil when there is
// none (the request then keeps waiting where it is). In normal routing
// that is AcquireAt's pick. In panic or fail-open routing, whose
// snapshot also holds UNHEALTHY backends (down by their checks, ejected,
// refusing connections), it looks at the snapshot's HEALTHY backends
// that are not Failing, from a random place, and takes the first that
// is still HEALTHY; the policy is not asked. A rescued request has used
// one attempt on a backend that stopped answering: sending it on to a
// backend already known down would spend its last attempt for a 502
// (the 1-hour chaos soak showed it, a rescue in panic routing landing on
// a killed backend), where waiting had ended in a slow success.
// Lock-free and allocation-free; O(n) in the pool's backends outside
// normal routing only, paid once per rescued request.
func (p *Pool) AcquireHealthyAt(avoid *Avoid, now time.Time) *Backend {
	s := p.snap.Load()
	if s.mode == modeNormal {
		b := p.acquire(avoid, now)
		if b == nil || b.State() == StateHealthy {
			return b
		}
		b.Release(RequestLocal, 0) // the pool left normal routing meanwhile
		return nil
	}
	return fromRandomPlace(s.backends, len(s.backends), func(x *Backend) bool {
		return x.State() == StateHealthy && !x.Failing() && (avoid == nil || !avoid.Has(x)) &&
			p.take(x, modeNormal, now)
	})
}

// NoteRescued counts one request rescued from b: its try at b was
// abandoned while it waited for an answer and the request was sent to
// another backend. Shown in /status as backends[].rescued and in
// lb_backend_rescued_total. Lock-free.
func (b *Backend) NoteRescued() { b.rescued.Add(1) }

// Rescued is how many requests NoteRescued counted on b.
func (b *Backend) Rescued() uint64 { return b.rescued.Load() }

// outForNoAnswer reports whether a transition to to for reason takes a
// backend out because nothing answers there: its traffic (silent,
// passive_ejection) or its health checks (timeout). The requests waiting
// on such a backend are rescued. The checks' timeout counts because a
// hang does not wait for silent detection: with a check timeout shorter
// than silent_after (300ms at least) the checks often judge a hung
// backend first, and its waiting requests then waited for the hang.
func outForNoAnswer(to State, reason Reason) bool {
	return heldOutByTraffic(to, reason) || (to == StateUnhealthy && reason == ReasonTimeout)
}

// heldOutByTraffic reports whether a transition to to for reason holds a
// backend out because its own traffic went unanswered or failed (the
// hold-outs Failing reads; their waiting requests are rescued, as are
// those of the states outForNoAnswer adds).
func heldOutByTraffic(to State, reason Reason) bool {
	return to == StateUnhealthy && (reason == ReasonSilent || reason == ReasonPassiveEjection)
}
