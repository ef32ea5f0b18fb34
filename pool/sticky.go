package pool

import "time"

// AcquireBackendAt counts a request in flight on b, a backend of this pool
// the caller already knows (a sticky session's), when b is HEALTHY now,
// and reports whether it did; the caller must then Release b exactly
// once. It refuses (false, nothing counted) a backend of another pool, a
// forgotten one, or one in any other state: draining, drained, initial,
// unhealthy (even when panic or fail-open routing sends other requests
// to unhealthy backends), so the caller picks another with Acquire. It
// skips the policy and slow start: a session goes back to its backend
// whatever the algorithm would choose. now is the caller's reading of the
// clock, as for AcquireAt (zero: the pool reads it). Lock-free and
// allocation-free.
func (p *Pool) AcquireBackendAt(b *Backend, now time.Time) bool {
	if b == nil || b.pool != p || b.State() != StateHealthy {
		return false
	}
	return p.take(b, modeNormal, now)
}
