package fleet

import (
	"encoding/json"
	"fmt"
	"time"
)

// State is an owner's conclusion about a backend from its own probes,
// after the pool's thresholds.
type State string

// The states a verdict can hold.
const (
	// StateUp: the backend passes (the first pass of a new backend, or
	// healthy_threshold passes in a row).
	StateUp State = "up"
	// StateDown: unhealthy_threshold failures in a row.
	StateDown State = "down"
	// StateDraining: the backend said it is shutting down.
	StateDraining State = "draining"
)

// valid reports whether s is one of the three states.
func (s State) valid() bool { return s == StateUp || s == StateDown || s == StateDraining }

// Verdict is one owner's conclusion about one backend, as published under
// the owner's lease. Its JSON form (the value in etcd) holds State,
// Reason, Detail, Code and At; Target and Member come from the key.
type Verdict struct {
	Target Target `json:"-"`
	// Member is the owner that reached it.
	Member string `json:"-"`
	// State is the conclusion.
	State State `json:"state"`
	// Reason is the pool's word for the probe outcome that decided it
	// (check_passed, backend_draining, timeout, connection_refused, ...).
	Reason string `json:"reason"`
	// Detail is the deciding probe's detail ("503", an error's text).
	Detail string `json:"detail,omitempty"`
	// Code is the deciding probe's HTTP (or gRPC serving) status, 0 for
	// none.
	Code int `json:"code,omitempty"`
	// At is when the owner's deciding probe started.
	At time.Time `json:"at"`
}

// Same reports whether v and w say the same thing (state, reason,
// detail and code; not when).
func (v Verdict) Same(w Verdict) bool {
	return v.State == w.State && v.Reason == w.Reason && v.Detail == w.Detail && v.Code == w.Code
}

// decodeVerdict reads the value of a verdict key.
func decodeVerdict(k parsedKey, value []byte) (Verdict, error) {
	var v Verdict
	if err := json.Unmarshal(value, &v); err != nil {
		return Verdict{}, err
	}
	if !v.State.valid() {
		return Verdict{}, fmt.Errorf("unknown state %q", v.State)
	}
	v.Target, v.Member = k.target, k.member
	return v, nil
}

// Drain is an operator's drain of a backend, issued through one member's
// admin API and applied by every member. Its JSON form holds Member and
// At.
type Drain struct {
	Target Target `json:"-"`
	// Member is the instance whose admin API was asked.
	Member string `json:"member"`
	// At is when.
	At time.Time `json:"at"`
}

// decodeDrain reads the value of a drain key.
func decodeDrain(k parsedKey, value []byte) (Drain, error) {
	var d Drain
	if err := json.Unmarshal(value, &d); err != nil {
		return Drain{}, err
	}
	if d.Member == "" {
		return Drain{}, fmt.Errorf("no member")
	}
	d.Target = k.target
	return d, nil
}
