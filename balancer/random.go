package balancer

import "math/rand/v2"

// random picks uniformly at random, or in proportion to the weights when
// they differ. It keeps no state; randomness comes from math/rand/v2's
// top-level functions, which are lock-free and per-thread.
type random struct{}

func (*random) Name() string { return Random }

// NewPicker is O(n): it reads the weights and, if they differ, builds
// their alias table.
func (*random) NewPicker(targets []Target) Picker {
	ws, total, uniform := weights(targets)
	if uniform {
		return uniformRandomPicker{n: len(targets)}
	}
	return &weightedRandomPicker{table: newAliasTable(ws, total)}
}

// uniformRandomPicker: Pick is O(1).
type uniformRandomPicker struct{ n int }

func (p uniformRandomPicker) Pick(uint64) int { return rand.IntN(p.n) }

// weightedRandomPicker draws from an alias table: O(1) per Pick, exactly
// in proportion to the weights.
type weightedRandomPicker struct {
	table *aliasTable
}

func (p *weightedRandomPicker) Pick(uint64) int { return p.table.draw() }
