package balancer

import "math/rand/v2"

// powerOfTwo draws two distinct targets uniformly at random and returns the
// one with fewer requests in flight (per weight when weights differ,
// compared by exact cross-multiplication; a tie keeps the first draw). It
// balances nearly as well as least_conn at O(1) per Pick, and, unlike
// least_conn, concurrent picks do not all pile onto the same momentarily
// idlest backend. It keeps no state.
type powerOfTwo struct{}

func (*powerOfTwo) Name() string { return PowerOfTwo }

// NewPicker is O(n): it reads the weights once.
func (*powerOfTwo) NewPicker(targets []Target) Picker {
	ws, _, uniform := weights(targets)
	if uniform {
		ws = nil
	}
	return &powerOfTwoPicker{targets: targets, weights: ws}
}

type powerOfTwoPicker struct {
	targets []Target
	weights []uint64 // nil when all weights are equal
}

func (p *powerOfTwoPicker) Pick(uint64) int {
	n := len(p.targets)
	if n == 1 {
		return 0
	}
	a := rand.IntN(n)
	b := rand.IntN(n - 1)
	if b >= a {
		b++
	}
	la, lb := loadOf(p.targets[a]), loadOf(p.targets[b])
	if p.weights == nil {
		if lb < la {
			return b
		}
		return a
	}
	if lessLoaded(lb, p.weights[b], la, p.weights[a]) {
		return b
	}
	return a
}
