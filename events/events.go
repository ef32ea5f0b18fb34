// Package events keeps the load balancer's recent history: every backend
// state transition, configuration reload and operator drain or undrain, in
// a bounded in-memory ring that the admin listener serves at /events.
//
// The ring is the operator's "what just happened" view, not an audit log:
// it forgets the oldest event once it is full, and it is lost on restart.
// Every event is also one structured log line (written by whoever records
// it), which is where durable history belongs.
//
// The package knows nothing else in the project: states and reasons are
// plain strings here, filled in by the wiring (package server).
package events

import (
	"sync"
	"time"
)

// DefaultCapacity is how many events a Ring keeps when it is given no
// capacity (admin { event_buffer }).
const DefaultCapacity = 1000

// Kind says what an Event records.
type Kind string

const (
	// KindTransition: a backend changed state (or the reason for its state
	// changed). Ejections, silent backends, drains ending and removals
	// all come through as transitions, told apart by their reason.
	KindTransition Kind = "transition"
	// KindReload: a configuration reload was attempted; Reason is
	// "applied", "refused" or "invalid_configuration".
	KindReload Kind = "reload"
	// KindDrain: an operator drained a backend (POST .../drain).
	KindDrain Kind = "drain"
	// KindUndrain: an operator lifted a drain (POST .../undrain).
	KindUndrain Kind = "undrain"
)

// Reasons of a KindReload event.
const (
	ReloadApplied              = "applied"
	ReloadRefused              = "refused"
	ReloadInvalidConfiguration = "invalid_configuration"
)

// Event is one entry of the trail. Fields that do not apply to a kind are
// empty and left out of the JSON.
type Event struct {
	// Seq numbers events in the order they were recorded, from 1. A gap
	// between the oldest Seq a client saw and the next one it reads means
	// the ring forgot events in between.
	Seq uint64 `json:"seq"`
	// Time is when it happened (for a transition, when the state
	// changed; for an action, when it completed).
	Time time.Time `json:"time"`
	// Kind is what happened.
	Kind Kind `json:"kind"`
	// Pool and Backend (its address) it concerns; empty for a reload.
	Pool    string `json:"pool,omitempty"`
	Backend string `json:"backend,omitempty"`
	// From and To are the backend states before and after ("healthy",
	// "draining", ...).
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Reason is the typed reason of a transition (timeout,
	// status_mismatch, passive_ejection, admin_drain, ...), or the outcome
	// of a reload.
	Reason string `json:"reason,omitempty"`
	// Detail is the specifics: the status code of a status_mismatch, the
	// error of a failed probe or a refused reload.
	Detail string `json:"detail,omitempty"`
	// By names the fleet member (another lb instance sharing checks) whose
	// verdict or operator decided a transition; "" for this instance.
	By string `json:"by,omitempty"`
	// ProbeLatencyMS is the latency of the probe that decided a
	// transition, in milliseconds; 0 (left out) when no probe decided it.
	ProbeLatencyMS float64 `json:"probe_latency_ms,omitempty"`
	// InFlight is the backend's in-flight request count at a transition
	// (for deregistration_timeout, the requests cancelled).
	InFlight int64 `json:"in_flight,omitempty"`
	// Changes lists what an applied reload changed.
	Changes []string `json:"changes,omitempty"`
	// Diagnostics are the positioned errors of an invalid configuration
	// ("lb.hcl:12,5-9: summary; detail").
	Diagnostics []string `json:"diagnostics,omitempty"`
}

// Ring is a bounded, in-memory trail of events: once it holds its capacity
// the oldest event is forgotten for each new one. The zero value is not
// usable; call New. A Ring is safe for concurrent use. Add takes a mutex:
// events are recorded on state changes and operator actions, never on the
// request path.
type Ring struct {
	mu   sync.Mutex
	buf  []Event // grows up to cap, then wraps; buf[next] is the oldest once full
	cap  int
	next int    // where the next event goes once len(buf) == cap
	seq  uint64 // Seq of the newest event
}

// New returns an empty Ring that keeps the newest capacity events
// (DefaultCapacity if capacity < 1). Memory grows with the events actually
// recorded, not with the capacity.
func New(capacity int) *Ring {
	if capacity < 1 {
		capacity = DefaultCapacity
	}
	return &Ring{cap: capacity}
}

// Add records e, setting its Seq, and its Time when zero. It returns the
// stored event.
func (r *Ring) Add(e Event) Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	r.seq++
	e.Seq = r.seq
	if len(r.buf) < r.cap {
		r.buf = append(r.buf, e)
		return e
	}
	r.buf[r.next] = e
	r.next = (r.next + 1) % r.cap
	return e
}

// List returns up to limit events, newest first (limit < 1: every event
// kept). A non-empty backend keeps only the events about that backend
// address, in any pool. The slice is the caller's.
func (r *Ring) List(backend string, limit int) []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.buf)
	if limit < 1 || limit > n {
		limit = n
	}
	out := make([]Event, 0, min(limit, 64))
	// The newest is just before next (once full) or last (while growing).
	for i := 0; i < n && len(out) < limit; i++ {
		e := r.buf[(r.newestLocked()-i+n)%n]
		if backend != "" && e.Backend != backend {
			continue
		}
		out = append(out, e)
	}
	return out
}

// newestLocked is the index of the newest event; len(r.buf) > 0.
func (r *Ring) newestLocked() int {
	if len(r.buf) < r.cap {
		return len(r.buf) - 1
	}
	return (r.next - 1 + r.cap) % r.cap
}

// Len is how many events the ring holds now.
func (r *Ring) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.buf)
}

// Cap is how many events the ring keeps at most.
func (r *Ring) Cap() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cap
}

// Total is how many events were ever added (the Seq of the newest).
func (r *Ring) Total() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seq
}

// SetCapacity changes how many events the ring keeps (a reload changed
// admin { event_buffer }); capacity < 1 means DefaultCapacity. Shrinking
// forgets the oldest events beyond the new capacity; the newest are kept
// in order.
func (r *Ring) SetCapacity(capacity int) {
	if capacity < 1 {
		capacity = DefaultCapacity
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if capacity == r.cap {
		return
	}
	// Unroll oldest..newest, keep the newest capacity of them.
	n := len(r.buf)
	ordered := make([]Event, 0, min(n, capacity))
	start := 0
	if n == r.cap {
		start = r.next
	}
	skip := max(n-capacity, 0)
	for i := skip; i < n; i++ {
		ordered = append(ordered, r.buf[(start+i)%n])
	}
	r.buf, r.cap, r.next = ordered, capacity, 0
}
