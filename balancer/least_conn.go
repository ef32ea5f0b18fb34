package balancer

import "sync/atomic"

// leastConn picks the target with the fewest requests in flight, or, when
// weights differ, the lowest in-flight/weight (compared by exact
// cross-multiplication). Ties go to the first target found scanning from a
// start index that an atomic cursor rotates on every pick, so idle or
// equally loaded backends share the load evenly instead of the first one
// taking it all.
//
// Pick is O(n): it reads every target's in-flight counter, stopping early
// only at an idle target (nothing can beat zero). That is fine for pools of
// tens or hundreds of backends; for thousands, power_of_two gives nearly the
// same balance in O(1).
//
// The cursor lives in the Policy so a snapshot change keeps rotating.
type leastConn struct {
	cursor atomic.Uint64
	_      [cacheLinePad]byte
}

func (*leastConn) Name() string { return LeastConn }

// NewPicker is O(n): it reads the weights once.
func (p *leastConn) NewPicker(targets []Target) Picker {
	ws, _, uniform := weights(targets)
	if uniform {
		ws = nil
	}
	return &leastConnPicker{cursor: &p.cursor, targets: targets, weights: ws}
}

type leastConnPicker struct {
	cursor  *atomic.Uint64
	targets []Target
	weights []uint64 // nil when all weights are equal
}

func (p *leastConnPicker) Pick() int {
	n := len(p.targets)
	start := int((p.cursor.Add(1) - 1) % uint64(n))
	if p.weights == nil {
		best, bestLoad := start, loadOf(p.targets[start])
		if bestLoad == 0 {
			return start
		}
		for k := 1; k < n; k++ {
			i := start + k
			if i >= n {
				i -= n
			}
			l := loadOf(p.targets[i])
			if l < bestLoad {
				if l == 0 {
					return i
				}
				best, bestLoad = i, l
			}
		}
		return best
	}
	best, bestLoad, bestW := start, loadOf(p.targets[start]), p.weights[start]
	if bestLoad == 0 {
		return start
	}
	for k := 1; k < n; k++ {
		i := start + k
		if i >= n {
			i -= n
		}
		l := loadOf(p.targets[i])
		if l == 0 {
			return i
		}
		if w := p.weights[i]; lessLoaded(l, w, bestLoad, bestW) {
			best, bestLoad, bestW = i, l, w
		}
	}
	return best
}
