package balancer

import "math/rand/v2"

// aliasTable draws an index in proportion to integer weights in O(1):
// Walker's alias method, built as Vose does it, in integers so that the
// distribution is exact. Each of the n slots holds one unit of
// probability, split between the slot's own index (prob out of total) and
// one alias; a draw picks a slot uniformly and a point in it. Building is
// O(n); a table is immutable and safe for concurrent use.
type aliasTable struct {
	prob  []uint64 // of total: the share of slot i that is i's own
	alias []int32  // who owns the rest of slot i
	total uint64   // sum of the weights
}

// newAliasTable builds the table of ws (each in [1, maxWeight], fewer
// than 2^31 of them), whose sum is total. Measured in units of
// 1/(n*total), target i has w_i*n units to place (< 2^62) and each slot
// holds total of them. A slot short of a whole one (w_i*n < total) is
// topped up by a target with more than a whole one, which gives away what
// it tops up; the units add up exactly, so the targets left over when one
// side runs out hold exactly one slot each.
func newAliasTable(ws []uint64, total uint64) *aliasTable {
	n := len(ws)
	t := &aliasTable{prob: make([]uint64, n), alias: make([]int32, n), total: total}
	// left[i] is what target i still has to place. Once i is taken as a
	// small one, left[i] no longer changes and is its slot's own share,
	// so prob serves as left.
	left := t.prob
	work := make([]int32, n) // small ones from the front, large from the back
	s, l := 0, n
	for i, w := range ws {
		left[i] = w * uint64(n)
		if left[i] < total {
			work[s] = int32(i)
			s++
		} else {
			l--
			work[l] = int32(i)
		}
	}
	for s > 0 && l < n {
		s--
		small := work[s]
		large := work[l]
		t.alias[small] = large
		left[large] -= total - left[small]
		if left[large] < total {
			// large is small now: it moves to the small end.
			l++
			work[s] = large
			s++
		}
	}
	// Whoever is left has exactly one whole slot to place (left[i] ==
	// total): its own.
	return t
}

// draw returns an index with probability w_i / total.
func (t *aliasTable) draw() int {
	i := rand.IntN(len(t.prob))
	if rand.Uint64N(t.total) < t.prob[i] {
		return i
	}
	return int(t.alias[i])
}
