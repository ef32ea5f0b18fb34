package pool

// State is where a backend stands in its lifecycle. The zero value is
// StateInitial. See docs/DESIGN.md for the machine; only StateHealthy backends
// take new requests.
type State uint32

const (
	// StateInitial: added, no check has decided yet. Takes no traffic.
	StateInitial State = iota
	// StateHealthy: in rotation.
	StateHealthy
	// StateUnhealthy: failed unhealthy_threshold checks in a row (or never
	// passed from INITIAL). Takes no traffic; checks continue.
	StateUnhealthy
	// StateDraining: asked to leave (the backend said it is shutting down,
	// an operator drained it, a reload removed it). Takes no new requests;
	// requests it already has run to completion.
	StateDraining
	// StateDrained: drain finished (no request in flight). Takes no traffic;
	// checks continue, and a backend that passes healthy_threshold checks
	// in a row again (a restarted instance) becomes HEALTHY.
	StateDrained
)

// String returns the lower-case name used in logs, JSON and metric labels.
func (s State) String() string {
	switch s {
	case StateInitial:
		return "initial"
	case StateHealthy:
		return "healthy"
	case StateUnhealthy:
		return "unhealthy"
	case StateDraining:
		return "draining"
	case StateDrained:
		return "drained"
	}
	return "unknown"
}

// MarshalText makes a State render as its name in JSON.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
