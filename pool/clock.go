package pool

import "time"

// The pool's clock is monotonic, in ns since the pool was made; the
// request-path signals (busySince, lastAnswer, slow start) and the
// watchdog read it. A caller that has just read the clock itself (the
// proxy reads it once per request and once per try) hands its reading
// over (AcquireAt, ReleaseAt), so that the request path reads the clock
// as few times as it can: each read costs tens of nanoseconds, more in a
// virtual machine.

// now is the pool's clock now.
func (p *Pool) now() int64 { return int64(time.Since(p.epoch)) }

// at is the pool's clock at t, a reading of the clock with its monotonic
// part; a zero t reads the clock now.
func (p *Pool) at(t time.Time) int64 {
	if t.IsZero() {
		return p.now()
	}
	return int64(t.Sub(p.epoch))
}
