package balancer

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAliasTableExact checks the alias table's distribution exactly, in
// integers: target i's probability, summed over the slots that hold part
// of it, times n*total, must be w_i*n.
func TestAliasTableExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	random := func(n, maxW int) []uint64 {
		ws := make([]uint64, n)
		for i := range ws {
			ws[i] = 1 + uint64(r.IntN(maxW))
		}
		return ws
	}
	tests := []struct {
		name string
		ws   []uint64
	}{
		{"one", []uint64{7}},
		{"equal", []uint64{3, 3, 3, 3}},
		{"5,1,1", []uint64{5, 1, 1}},
		{"one heavy", []uint64{math.MaxInt32, 1, 1, 1}},
		{"max weights", []uint64{math.MaxInt32, math.MaxInt32 - 1, 1}},
		{"random 100", random(100, 50)},
		{"random 10,000", random(10_000, 1000)},
		{"random 10,000 wide", random(10_000, math.MaxInt32)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var total uint64
			for _, w := range tt.ws {
				total += w
			}
			tab := newAliasTable(tt.ws, total)
			n := uint64(len(tt.ws))
			got := make([]uint64, n) // units of 1/(n*total)
			for i := range tt.ws {
				if tab.prob[i] > total {
					t.Fatalf("slot %d: own share %d of %d", i, tab.prob[i], total)
				}
				got[i] += tab.prob[i]
				if tab.prob[i] < total {
					got[tab.alias[i]] += total - tab.prob[i]
				}
			}
			for i, w := range tt.ws {
				if want := w * n; got[i] != want {
					t.Fatalf("target %d (weight %d): %d units, want %d", i, w, got[i], want)
				}
			}
		})
	}
}
