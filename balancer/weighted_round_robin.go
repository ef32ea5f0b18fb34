package balancer

import (
	"math/bits"
	"sync/atomic"
)

// maxSchedule caps the length of a precomputed smooth schedule (and so its
// memory: 4 bytes an entry, 256 KiB at most).
const maxSchedule = 1 << 16

// maxScheduleWork caps the work of building a smooth schedule: its length
// times the number of distinct weights (each entry compares one candidate
// per weight). NewPicker runs under the pool's lock on every change of the
// eligible set, so this bounds that change's cost whatever the weights:
// 2^18 comparisons take well under a millisecond, where 256 distinct
// weights over 10,000 backends (a 42,640-entry cycle) took 31 ms.
const maxScheduleWork = 1 << 18

// weightedRoundRobin is smooth weighted round robin as NGINX does it: each
// target is picked in proportion to its weight, and the picks of a heavy
// target are interleaved with the others rather than sent in a burst
// (weights 5,1,1 give a a b a c a a, then repeat).
//
// NGINX runs its algorithm under a lock on every pick. Here NewPicker runs
// it once, off the request path, for one full cycle (weights divided by
// their gcd, so a cycle is sum(weights)/gcd picks long; the smooth sequence
// is periodic with exactly that period), and Pick walks the precomputed
// schedule with an atomic cursor: lock-free, O(1), and the exact NGINX
// sequence.
//
// Fallbacks:
//   - Equal weights: a plain rotation, identical to round_robin (which is
//     also what the smooth algorithm yields for equal weights).
//   - A cycle longer than maxSchedule (65,536) picks, or one whose
//     schedule would take more than maxScheduleWork (2^18) steps to
//     build (cycle length times distinct weights: many distinct weights
//     in a long cycle): no schedule is built. Pick maps the cursor through a golden-ratio stride that is coprime to
//     the weight total, position = cursor*stride mod total, and finds the
//     owner of that position by binary search over prefix sums: O(log n),
//     still lock-free and allocation-free. Every full cycle of total picks
//     still gives each target exactly its weight, and the stride scatters
//     consecutive picks across the weight line, so a heavy target's picks
//     are spread out, though not with NGINX's exact interleaving.
//
// The cursor lives in the Policy so a snapshot change continues the
// rotation rather than restarting it.
type weightedRoundRobin struct {
	cursor atomic.Uint64
	_      [cacheLinePad]byte
}

func (*weightedRoundRobin) Name() string { return WeightedRoundRobin }

// NewPicker costs O(n) for equal weights, O(n + C*D) for a smooth
// schedule of C <= maxSchedule entries over D distinct weights (C*D <=
// maxScheduleWork), and O(n) for the stride fallback.
func (p *weightedRoundRobin) NewPicker(targets []Target) Picker {
	ws, total, uniform := weights(targets)
	if uniform {
		return &roundRobinPicker{cursor: &p.cursor, n: uint64(len(targets))}
	}
	g := ws[0]
	for _, w := range ws[1:] {
		g = gcd(g, w)
	}
	for i := range ws {
		ws[i] /= g
	}
	total /= g
	if total <= maxSchedule {
		if sched := smoothSchedule(ws, total); sched != nil {
			return &schedulePicker{cursor: &p.cursor, schedule: sched}
		}
	}
	return &stridePicker{cursor: &p.cursor, prefix: prefixSums(ws), total: total, stride: coprimeStride(total)}
}

// schedulePicker walks a precomputed cycle: Pick is O(1).
type schedulePicker struct {
	cursor   *atomic.Uint64
	schedule []int32
}

func (p *schedulePicker) Pick(uint64) int {
	return int(p.schedule[(p.cursor.Add(1)-1)%uint64(len(p.schedule))])
}

// stridePicker is the bounded-memory fallback described on
// weightedRoundRobin: Pick is O(log n).
type stridePicker struct {
	cursor *atomic.Uint64
	prefix []uint64 // strictly increasing; last element is total
	total  uint64
	stride uint64 // coprime to total, so cursor*stride mod total is a bijection per cycle
}

func (p *stridePicker) Pick(uint64) int {
	c := (p.cursor.Add(1) - 1) % p.total
	hi, lo := bits.Mul64(c, p.stride)
	return searchPrefix(p.prefix, bits.Rem64(hi, lo, p.total))
}

// coprimeStride returns a stride near total/phi (the golden ratio, for the
// best spread of consecutive multiples) that is coprime to total. total >= 2.
func coprimeStride(total uint64) uint64 {
	s, _ := bits.Mul64(total, 0x9E3779B97F4A7C15) // floor(total * 0.618...)
	if s == 0 {
		s = 1
	}
	for gcd(s, total) != 1 {
		s++
	}
	return s
}

// smoothSchedule returns one full cycle (total entries) of NGINX's smooth
// weighted round robin over ws (which sum to total):
//
//	for each pick: current[i] += ws[i] for all i; choose the first i with
//	the largest current[i]; current[i] -= total
//
// Computed per distinct weight rather than per target. At pick t
// (1-based), current[i] = t*ws[i] - total*picked[i]. Among targets of one
// weight the largest current belongs to the least-picked one, lowest index
// first, so a weight class is served in index order and only its next
// member can win. Each pick therefore compares one candidate per class
// (value, then index, as NGINX's first-maximum does): O(total * classes)
// instead of O(total * n). It returns nil, having built nothing but the
// classes, when total * classes is over maxScheduleWork.
func smoothSchedule(ws []uint64, total uint64) []int32 {
	type class struct {
		weight  int64
		members []int32 // ascending indices
		next    int     // members[next] is the class's candidate
		rounds  int64   // times every member has been picked
	}
	byWeight := make(map[uint64]int)
	var classes []class
	for i, w := range ws {
		k, ok := byWeight[w]
		if !ok {
			k = len(classes)
			byWeight[w] = k
			classes = append(classes, class{weight: int64(w)})
		}
		classes[k].members = append(classes[k].members, int32(i))
	}
	if total*uint64(len(classes)) > maxScheduleWork {
		return nil
	}

	sched := make([]int32, total)
	T := int64(total)
	for t := int64(1); t <= T; t++ {
		best := -1
		var bestV int64
		var bestIdx int32
		for k := range classes {
			c := &classes[k]
			v := t*c.weight - T*c.rounds
			idx := c.members[c.next]
			if best < 0 || v > bestV || (v == bestV && idx < bestIdx) {
				best, bestV, bestIdx = k, v, idx
			}
		}
		sched[t-1] = bestIdx
		c := &classes[best]
		if c.next++; c.next == len(c.members) {
			c.next = 0
			c.rounds++
		}
	}
	return sched
}
