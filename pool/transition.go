package pool

import "time"

// Transition is one change of a backend's state, with the reason that caused
// it. Exactly one Transition is emitted (logged, handed to
// Options.OnTransition) per change.
type Transition struct {
	// Pool and Backend name where it happened.
	Pool, Backend string
	// Target is the backend itself, for wiring that must act on a
	// transition (close its connections, stop its checker).
	Target *Backend `json:"-"`
	// From and To are the states before and after. They are equal only
	// when the reason changed without a state change (active checks
	// confirming a passive ejection) or for the last Transition of a
	// removed backend (Removed).
	From, To State
	// Reason is why: a probe outcome or an operator/config action.
	Reason Reason
	// Detail is the specifics (the status code of a status_mismatch, the
	// error text of a transport failure); "" when there are none.
	Detail string
	// By names the fleet member whose probes or operator decided this
	// transition when that is another lb instance sharing checks (see
	// package fleet), or this instance's own member name for an operator
	// drain shared with the fleet; "" otherwise.
	By string
	// At is when the transition happened.
	At time.Time
	// ProbeLatency is the latency of the probe that decided it, 0 when the
	// transition was not decided by a probe.
	ProbeLatency time.Duration
	// InFlight is the backend's in-flight count at the transition; for
	// reason deregistration_timeout, the requests about to be cancelled.
	InFlight int64
	// Removed is set on the last Transition of a backend a reload
	// removed: the pool has forgotten it (From and To are both DRAINED).
	Removed bool
}
