// Package record holds what a benchmark run observes, as plain data: one
// Record per response, the Faults the scenario injected, and timeline
// Events (faults, restores, the load balancer's own state changes). The
// load generator, the scenario and the target watchers produce them; the
// report package turns them into figures.
package record

import "time"

// Kind classifies how a request ended.
type Kind uint8

const (
	// OK: a 2xx answer.
	OK Kind = iota
	// HTTPError: an answer outside 2xx; Record.Code says which.
	HTTPError
	// Timeout: no answer within the client's timeout.
	Timeout
	// Refused: the connection to the target was refused.
	Refused
	// Reset: the connection was reset or closed before a full answer.
	Reset
	// OtherError: any other transport error.
	OtherError
)

// String names the kind as it appears in reports.
func (k Kind) String() string {
	switch k {
	case OK:
		return "ok"
	case HTTPError:
		return "http"
	case Timeout:
		return "timeout"
	case Refused:
		return "connection_refused"
	case Reset:
		return "connection_reset"
	case OtherError:
		return "transport_error"
	}
	return "unknown"
}

// NoBackend is Record.Backend for an answer no known backend tagged.
const NoBackend = -1

// Record is one request: when it started (since the load began), how long
// it took, and how it ended. It is small on purpose: a run keeps one per
// request.
type Record struct {
	Start   time.Duration // since the start of the load
	Latency time.Duration // until the whole answer was read, or the failure
	Code    uint16        // HTTP status; 0 when there was no answer
	Kind    Kind          // how it ended
	Backend int16         // index of the backend that tagged the answer, or NoBackend
}

// Failed reports whether the request counts as a failure (anything but a
// 2xx answer).
func (r Record) Failed() bool { return r.Kind != OK }

// Fault is one injected fault on one backend: [At, RestoredAt) is the
// window in which the backend was impaired. RestoredAt is zero if the run
// ended first.
type Fault struct {
	Backend    int           // index of the faulted backend
	Kind       string        // scenario name: kill, drain, hang, ...
	At         time.Duration // when the fault began, since the start of the load
	RestoredAt time.Duration // when it was undone
	// Exited, for drain, is when the drained process exited (zero if it
	// did not within the window).
	Exited time.Duration
}

// EventKind says where a timeline event comes from.
type EventKind string

// Event kinds.
const (
	EventFault   EventKind = "fault"
	EventRestore EventKind = "restore"
	EventExit    EventKind = "exit" // a drained backend process exited
	EventLB      EventKind = "lb"   // the load balancer changed a backend's state
)

// Event is a marker on the timeline.
type Event struct {
	At      time.Duration // since the start of the load (negative: before it)
	Kind    EventKind     // where it comes from
	Backend int           // index of the backend it concerns, or NoBackend
	Ref     string        // the backend as the source named it (address, server name)
	From    string        // for EventLB: previous state, when known
	To      string        // for EventLB: new state ("up"/"down" when that is all that is known)
	Reason  string        // for EventLB: the load balancer's reason, when given
}

// Down reports whether an EventLB takes the backend out of rotation.
func (e Event) Down() bool {
	switch e.To {
	case "unhealthy", "draining", "drained", "down", "maint", "drain":
		return true
	}
	return false
}

// Up reports whether an EventLB puts the backend (back) in rotation.
func (e Event) Up() bool { return e.To == "healthy" || e.To == "up" }

// Routed is one observation from the load balancer's own counters: at At,
// the backend's request counter had grown since the previous
// observation, so the LB routed at least one request to it in between.
type Routed struct {
	At      time.Duration // the poll that saw the counter grow, since the start of the load
	Backend int           // index of the backend
}
