package pool

import "github.com/lbtrust/lb/balancer"

// snapshot is an immutable view of a pool's eligible backends and the
// picker built for them. A new one replaces the old atomically whenever
// eligibility changes; readers never lock.
type snapshot struct {
	backends []*Backend
	picker   balancer.Picker // nil when backends is empty
}

// newSnapshot builds a snapshot over eligible (which it takes ownership
// of) with a fresh picker from policy.
func newSnapshot(eligible []*Backend, policy balancer.Policy) *snapshot {
	s := &snapshot{backends: eligible}
	if len(eligible) > 0 {
		targets := make([]balancer.Target, len(eligible))
		for i, b := range eligible {
			targets[i] = b
		}
		s.picker = policy.NewPicker(targets)
	}
	return s
}

// pick returns an eligible backend not in avoid, or nil. It tries the
// policy's choice a few times, then scans from the policy's choice so that
// a backend is found whenever one exists.
func (s *snapshot) pick(avoid *Avoid) *Backend {
	n := len(s.backends)
	if n == 0 {
		return nil
	}
	i := s.picker.Pick()
	if avoid == nil || avoid.n == 0 {
		return s.backends[i]
	}
	for try := 0; try < 2; try++ {
		if b := s.backends[i]; !avoid.Has(b) {
			return b
		}
		i = s.picker.Pick()
	}
	for k := 0; k < n; k++ {
		if b := s.backends[(i+k)%n]; !avoid.Has(b) {
			return b
		}
	}
	return nil
}
