package pool

import (
	"math/rand/v2"
	"time"

	"github.com/lbtrust/lb/balancer"
)

// routingMode says which backends a snapshot routes across.
type routingMode uint8

const (
	// modeNormal: the HEALTHY backends.
	modeNormal routingMode = iota
	// modePanic: too few HEALTHY ones (under panic_threshold): every
	// HEALTHY or UNHEALTHY backend.
	modePanic
	// modeFailOpen: none HEALTHY: every UNHEALTHY backend.
	modeFailOpen
	// modeFailClosed: none HEALTHY: nothing (503).
	modeFailClosed
)

// String is the name shown in /status, /readyz and logs.
func (m routingMode) String() string {
	switch m {
	case modePanic:
		return "panic"
	case modeFailOpen:
		return "fail_open"
	case modeFailClosed:
		return "fail_closed"
	}
	return "normal"
}

// snapshot is an immutable view of the backends a pool routes across and
// the picker built for them. A new one replaces the old atomically whenever
// that set changes; readers never lock.
type snapshot struct {
	backends []*Backend
	picker   balancer.Picker // nil when backends is empty
	mode     routingMode
	// rampUntil (pool clock, ns) is when the last slow start among
	// backends ends; 0 when none ramps. window is the slow-start length.
	rampUntil, window int64
}

// newSnapshot builds a snapshot over set (which it takes ownership of)
// with a fresh picker from policy.
func newSnapshot(set []*Backend, mode routingMode, policy balancer.Policy) *snapshot {
	s := &snapshot{backends: set, mode: mode}
	if len(set) > 0 {
		targets := make([]balancer.Target, len(set))
		for i, b := range set {
			targets[i] = b
		}
		s.picker = policy.NewPicker(targets)
	}
	return s
}

// setRamp records the slow-start window and when the last ramp ends.
func (s *snapshot) setRamp(window time.Duration) {
	s.window = int64(window)
	for _, b := range s.backends {
		if start := b.rampStart.Load(); start > 0 {
			s.rampUntil = max(s.rampUntil, start+s.window)
		}
	}
}

// slowStartInitial is the share of its normal traffic a backend gets when
// its slow start begins.
const slowStartInitial = 0.10

// pick returns a backend of s not in avoid, or nil. It tries the policy's
// choice a few times, then scans from the policy's choice so that a
// backend is found whenever one exists. A backend in slow start is turned
// down with probability 1 - its ramp share (10% rising linearly to 100%
// over the window) and another is picked, so every algorithm ramps it.
func (p *Pool) pick(s *snapshot, avoid *Avoid) *Backend {
	n := len(s.backends)
	if n == 0 {
		return nil
	}
	var now int64
	if s.rampUntil > 0 {
		if now = p.now(); now >= s.rampUntil {
			now = 0
		}
	}
	if now == 0 && (avoid == nil || avoid.n == 0) {
		return s.backends[s.picker.Pick()]
	}
	var declined *Backend
	i := s.picker.Pick()
	for try := 0; try < 3; try++ {
		b := s.backends[i]
		switch {
		case avoid != nil && avoid.Has(b), b == declined:
		case now > 0 && !s.admit(b, now):
			declined = b
		default:
			return b
		}
		i = s.picker.Pick()
	}
	for k := 0; k < n; k++ {
		if b := s.backends[(i+k)%n]; (avoid == nil || !avoid.Has(b)) && b != declined {
			return b
		}
	}
	if declined != nil && (avoid == nil || !avoid.Has(declined)) {
		return declined
	}
	return nil
}

// admit decides whether a backend in slow start takes this request.
func (s *snapshot) admit(b *Backend, now int64) bool {
	start := b.rampStart.Load()
	if start <= 0 || now-start >= s.window {
		return true
	}
	share := slowStartInitial + (1-slowStartInitial)*float64(now-start)/float64(s.window)
	return rand.Float64() < share
}
