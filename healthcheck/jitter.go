package healthcheck

import "time"

// Jitter bounds. Spreading probes keeps a thousand checkers started together
// from probing in the same millisecond, and keeps them from re-aligning.
const (
	// jitterFraction is how far (±) each wait may stray from the interval.
	jitterFraction = 0.10
	// maxFirstDelay caps the random delay before the first probe, so a
	// new backend is checked (and can take traffic) quickly even with a long
	// interval.
	maxFirstDelay = time.Second
)

// firstDelay returns the wait before a checker's first probe: u (in [0, 1))
// times min(interval/10, maxFirstDelay), so always in
// [0, min(interval/10, 1s)).
func firstDelay(interval time.Duration, u float64) time.Duration {
	window := min(time.Duration(float64(interval)*jitterFraction), maxFirstDelay)
	return time.Duration(float64(window) * u)
}

// nextDelay returns the time from one probe's start to the next one's:
// interval scaled by 1-10%+20%*u (u in [0, 1)), so in [0.9, 1.1) x interval.
func nextDelay(interval time.Duration, u float64) time.Duration {
	return time.Duration(float64(interval) * (1 - jitterFraction + 2*jitterFraction*u))
}
