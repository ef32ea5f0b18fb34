package balancer

import "math/rand/v2"

// random picks uniformly at random, or in proportion to the weights when
// they differ. It keeps no state; randomness comes from math/rand/v2's
// top-level functions, which are lock-free and per-thread.
type random struct{}

func (*random) Name() string { return Random }

// NewPicker is O(n): it reads the weights and, if they differ, builds their
// prefix sums.
func (*random) NewPicker(targets []Target) Picker {
	ws, _, uniform := weights(targets)
	if uniform {
		return uniformRandomPicker{n: len(targets)}
	}
	return &weightedRandomPicker{prefix: prefixSums(ws)}
}

// uniformRandomPicker: Pick is O(1).
type uniformRandomPicker struct{ n int }

func (p uniformRandomPicker) Pick() int { return rand.IntN(p.n) }

// weightedRandomPicker draws a point on the weight line and finds its owner
// by binary search: O(log n) per Pick.
type weightedRandomPicker struct {
	prefix []uint64 // strictly increasing; last element is the weight total
}

func (p *weightedRandomPicker) Pick() int {
	return searchPrefix(p.prefix, rand.Uint64N(p.prefix[len(p.prefix)-1]))
}
