package pool

// Thresholds are the consecutive-count rules of the state machine.
type Thresholds struct {
	// Healthy is how many passing checks in a row move an UNHEALTHY or
	// DRAINED backend to HEALTHY (default 2). An INITIAL backend needs only
	// one, as an AWS ALB does.
	Healthy int
	// Unhealthy is how many failing checks in a row move a HEALTHY or
	// INITIAL backend to UNHEALTHY (default 3).
	Unhealthy int
}

// withDefaults fills zero or negative counts with the defaults 2 and 3.
func (t Thresholds) withDefaults() Thresholds {
	if t.Healthy < 1 {
		t.Healthy = 2
	}
	if t.Unhealthy < 1 {
		t.Unhealthy = 3
	}
	return t
}
