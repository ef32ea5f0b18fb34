package pool

import (
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
	// silentOut: in panic or fail-open mode, backends held out as silent
	// were left out of backends (republishLocked).
	silentOut bool
	// rampUntil (pool clock, ns) is when the last slow start among
	// backends ends; 0 when none ramps. window is the slow-start length.
	rampUntil, window int64
	// weights is the sum of the backends' weights (for fair shares).
	weights int64
	// steady are the backends not in slow start when s was built, where
	// a request a ramping backend turned down goes (other); nil unless a
	// ramp was under way then.
	steady []*Backend
}

// newSnapshot builds a snapshot over set (which it takes ownership of)
// with a fresh picker from policy; a policy that bounds loads
// (balancer.TotalAware) reads total, the pool's in-flight count.
func newSnapshot(set []*Backend, mode routingMode, policy balancer.Policy, total balancer.Total) *snapshot {
	s := &snapshot{backends: set, mode: mode}
	if len(set) > 0 {
		targets := make([]balancer.Target, len(set))
		for i, b := range set {
			targets[i] = b
		}
		if ta, ok := policy.(balancer.TotalAware); ok {
			s.picker = ta.NewPickerWithTotal(targets, total)
		} else {
			s.picker = policy.NewPicker(targets)
		}
	}
	return s
}

// setRamp records the slow-start window, when the last ramp ends and,
// while one is under way at now (pool clock), the steady backends.
func (s *snapshot) setRamp(window time.Duration, now int64) {
	s.window = int64(window)
	for _, b := range s.backends {
		s.weights += int64(b.Weight())
		if start := b.rampStart.Load(); start > 0 {
			s.rampUntil = max(s.rampUntil, start+s.window)
		}
	}
	if now >= s.rampUntil {
		return
	}
	s.steady = make([]*Backend, 0, len(s.backends))
	for _, b := range s.backends {
		if !s.ramping(b, now) {
			s.steady = append(s.steady, b)
		}
	}
}

// ramping reports whether b is in its slow start at now (pool clock).
func (s *snapshot) ramping(b *Backend, now int64) bool {
	start := b.rampStart.Load()
	return start > 0 && now-start < s.window
}

// SlowStartInitialPercent is the share of its normal traffic, in percent,
// a backend gets when its slow start begins; it ramps linearly to 100%
// over the window. It equals config's SlowStartInitialPercent; server's
// TestRuntimeDefaultsMatchConfig holds it to it.
const SlowStartInitialPercent = 10

// slowStartInitial is SlowStartInitialPercent as a fraction.
const slowStartInitial = SlowStartInitialPercent / 100.0

// pick returns a backend of s not in avoid, or nil, for a request whose
// key (Avoid.SetKey) the policy sees. It tries the policy's
// choice a few times, then scans from the policy's choice so that a
// backend is found whenever one exists. A backend in slow start takes the
// request only when its slow-start credit allows (see admit: its share of
// new requests follows the ramp, 10% rising linearly to 100% of its fair
// share, for every algorithm); otherwise the request goes to a random
// backend that is not ramping.
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
	var key uint64
	if avoid != nil {
		key = avoid.key
	}
	if now == 0 && (avoid == nil || avoid.n == 0) {
		return s.backends[s.picker.Pick(key)]
	}
	var tick uint64
	if now > 0 {
		tick = p.rampTicks.Add(1)
	}
	i := s.picker.Pick(key)
	for try := 0; try < 3; try++ {
		b := s.backends[i]
		if avoid == nil || !avoid.Has(b) {
			if now == 0 || s.admit(b, now, tick) {
				return b
			}
			// Turned down by its slow start: the request goes to another
			// backend chosen at random, without consuming the policy's
			// own pick (a round-robin cursor moved by the refusal would
			// land on the ramping backend more often than its turn).
			if x := s.other(b, avoid); x != nil {
				return x
			}
			return b
		}
		i = s.picker.Pick(key)
	}
	for k := 0; k < n; k++ {
		if b := s.backends[(i+k)%n]; avoid == nil || !avoid.Has(b) {
			return b
		}
	}
	return nil
}

// other returns a steady backend of s (one not in slow start when s was
// built) other than b and not in avoid, drawn at random; nil if none. It
// skips only b and the avoided, so it looks at no more than len(avoid) + 2
// backends, however large the pool: a request turned down by a ramping
// backend never scans the pool.
func (s *snapshot) other(b *Backend, avoid *Avoid) *Backend {
	return fromRandomPlace(s.steady, len(s.steady), func(x *Backend) bool {
		return x != b && (avoid == nil || !avoid.Has(x))
	})
}

// rampCreditUnit is one request's worth of slow-start credit; a backend
// saves at most rampCreditMax (a few requests: enough to ride out a
// policy that offers it irregularly, too few to flood it).
const (
	rampCreditUnit = 1 << 16
	rampCreditMax  = 8 * rampCreditUnit
)

// admit decides whether a backend in slow start takes this request, the
// tick-th the pool picks during ramps. For every request the pool picks,
// the backend earns its ramp share (10% rising linearly to 100% over the
// window) of its fair share (weight / sum of weights), and it takes a
// request only when it has a whole one saved. Counting against the pool's
// requests rather than the policy's offers keeps the share on the ramp
// whatever the policy: least_conn and power_of_two offer a starved
// newcomer far more often than its fair turn.
func (s *snapshot) admit(b *Backend, now int64, tick uint64) bool {
	start := b.rampStart.Load()
	if start <= 0 || now-start >= s.window {
		return true
	}
	share := slowStartInitial + (1-slowStartInitial)*float64(now-start)/float64(s.window)
	for {
		last := b.rampTick.Load()
		if last >= tick {
			break
		}
		if b.rampTick.CompareAndSwap(last, tick) {
			fair := float64(b.Weight()) / float64(max(s.weights, 1))
			if c := b.rampCredit.Add(int64(float64(tick-last) * share * fair * rampCreditUnit)); c > rampCreditMax {
				b.rampCredit.Store(rampCreditMax)
			}
			break
		}
	}
	if b.rampCredit.Add(-rampCreditUnit) >= 0 {
		return true
	}
	b.rampCredit.Add(rampCreditUnit)
	return false
}
