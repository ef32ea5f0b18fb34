package pool

// Defaults for zero or negative Thresholds fields. They equal config's
// DefaultHealthyThreshold and DefaultUnhealthyThreshold; server's
// TestRuntimeDefaultsMatchConfig holds them to it.
const (
	DefaultHealthyThreshold   = 2
	DefaultUnhealthyThreshold = 3
)

// Thresholds are the consecutive-count rules of the state machine.
type Thresholds struct {
	// Healthy is how many passing checks in a row move an UNHEALTHY or
	// DRAINED backend to HEALTHY (default DefaultHealthyThreshold). An
	// INITIAL backend needs only one, as an AWS ALB does.
	Healthy int
	// Unhealthy is how many failing checks in a row move a HEALTHY or
	// INITIAL backend to UNHEALTHY (default DefaultUnhealthyThreshold).
	Unhealthy int
}

// withDefaults fills zero or negative counts with their defaults.
func (t Thresholds) withDefaults() Thresholds {
	if t.Healthy < 1 {
		t.Healthy = DefaultHealthyThreshold
	}
	if t.Unhealthy < 1 {
		t.Unhealthy = DefaultUnhealthyThreshold
	}
	return t
}
