package balancer

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strings"
)

// Policy names, as written in a pool's algorithm attribute and returned by
// Policy.Name. Every policy's Pick is safe for concurrent use, lock-free and
// allocation-free; weights are read once per snapshot, in NewPicker.
const (
	// RoundRobin hands out targets in turn, ignoring weights: over any n
	// consecutive picks each of n targets is chosen exactly once. The
	// cursor survives snapshot changes. Pick is O(1).
	RoundRobin = "round_robin"

	// WeightedRoundRobin is NGINX's smooth weighted round robin (weights
	// 5,1,1 give a a b a c a a), precomputed per snapshot so Pick is O(1).
	// Equal weights behave exactly like RoundRobin. A cycle longer than
	// 65,536 picks (sum of weights divided by their gcd), or one whose
	// schedule would cost more than 2^18 steps to build (cycle length
	// times the number of distinct weights), falls back to a stride walk
	// over the weight line that is still exact per cycle but not NGINX's
	// interleaving; its Pick is O(log n). Either way a snapshot's picker
	// is built in O(n) plus at most 2^18 steps.
	WeightedRoundRobin = "weighted_round_robin"

	// LeastConn picks the fewest in-flight requests (per weight when
	// weights differ), ties rotated so equally loaded targets share the
	// load. Weights therefore matter only once backends carry load: idle
	// backends all tie and share evenly. Up to 32 targets it is exact:
	// Pick reads every target's counter, stopping at the first idle one,
	// O(n) with n <= 32. Above 32 it picks the least loaded of 4
	// candidates (the next in rotation and 3 drawn at random, in
	// proportion to weight when weights differ): O(1) whatever n. See
	// the package doc and docs/DESIGN.md for why.
	LeastConn = "least_conn"

	// Random picks uniformly at random, or in proportion to the weights
	// when they differ (Walker's alias method, exact). Pick is O(1).
	Random = "random"

	// PowerOfTwo draws two distinct targets at random and picks the one
	// with fewer in-flight requests (per weight when weights differ; as
	// with LeastConn, idle backends tie whatever their weights). Pick is
	// O(1).
	PowerOfTwo = "power_of_two"

	// ConsistentHash sends equal keys to the same target: a hash ring
	// with bounded loads (Mirrokni, Thorup and Zadimoghaddam, "Consistent
	// Hashing with Bounded Loads", 2017). A key goes to the first target
	// clockwise from its place on the ring whose in-flight count is
	// below load_factor (DefaultLoadFactor, 1.25) times its fair share
	// of the pool's requests in flight; a request without a key
	// (NoKey) goes round robin. When a target leaves the snapshot
	// (drained, unhealthy, removed) only its keys move, and they come
	// back when it returns. The ring is built in NewPicker (O(ring
	// size), at most about 2^17 points); Pick is an O(1) lookup plus the
	// walk past full targets. See NewConsistentHash.
	ConsistentHash = "consistent_hash"
)

// ErrUnknownPolicy is wrapped by the error New returns for a name it does
// not know. Fix the configuration: use one of the names Names returns.
var ErrUnknownPolicy = errors.New("balancer: unknown policy")

// Names returns the valid policy names in a stable order. The caller owns
// the returned slice. It is safe for concurrent use.
func Names() []string {
	return []string{RoundRobin, WeightedRoundRobin, LeastConn, Random, PowerOfTwo, ConsistentHash}
}

// New returns a fresh Policy for one pool. Policies keep state across
// snapshots (a cursor), so a Policy value must not be shared between pools.
// ConsistentHash gets DefaultLoadFactor (NewConsistentHash sets another).
// For an unknown name it returns an error that wraps ErrUnknownPolicy and
// lists the valid names. It is safe for concurrent use.
func New(name string) (Policy, error) {
	switch name {
	case RoundRobin:
		return &roundRobin{}, nil
	case WeightedRoundRobin:
		return &weightedRoundRobin{}, nil
	case LeastConn:
		return &leastConn{}, nil
	case Random:
		return &random{}, nil
	case PowerOfTwo:
		return &powerOfTwo{}, nil
	case ConsistentHash:
		return NewConsistentHash(DefaultLoadFactor), nil
	}
	return nil, fmt.Errorf("%w %q: valid names are %s", ErrUnknownPolicy, name, strings.Join(Names(), ", "))
}

// cacheLinePad fills a Policy holding only a cursor up to a 64-byte size
// class, so the allocator gives the hot, constantly written cursor a cache
// line of its own and the read-mostly Pickers do not share it.
const cacheLinePad = 64 - 8

// maxWeight bounds a weight so that sums over any realistic pool and the
// cross-multiplied load comparisons stay exact in 64/128-bit integers.
const maxWeight = math.MaxInt32

// weightOf reads t's weight clamped to [1, maxWeight]: a target that breaks
// the Target contract still gets a sane share instead of breaking the pool.
func weightOf(t Target) uint64 {
	w := t.Weight()
	switch {
	case w < 1:
		return 1
	case w > maxWeight:
		return maxWeight
	}
	return uint64(w)
}

// weights returns the clamped weights of targets, their sum, and whether
// they are all equal.
func weights(targets []Target) (ws []uint64, total uint64, uniform bool) {
	ws = make([]uint64, len(targets))
	uniform = true
	for i, t := range targets {
		ws[i] = weightOf(t)
		total += ws[i]
		if ws[i] != ws[0] {
			uniform = false
		}
	}
	return ws, total, uniform
}

// prefixSums returns p with p[i] = ws[0] + ... + ws[i]. Because every
// weight is >= 1, p is strictly increasing.
func prefixSums(ws []uint64) []uint64 {
	p := make([]uint64, len(ws))
	var sum uint64
	for i, w := range ws {
		sum += w
		p[i] = sum
	}
	return p
}

// searchPrefix returns the index i of the first p[i] > r, i.e. the target
// that owns point r of the weight line [0, p[len(p)-1]). O(log n), no
// allocation. r must be < p[len(p)-1].
func searchPrefix(p []uint64, r uint64) int {
	lo, hi := 0, len(p)-1
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if p[mid] > r {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// loadOf reads t's in-flight count, treating a (contract-breaking) negative
// value as idle.
func loadOf(t Target) uint64 {
	if n := t.InFlight(); n > 0 {
		return uint64(n)
	}
	return 0
}

// lessLoaded reports whether load a per weight wa is strictly below load b
// per weight wb, i.e. a/wa < b/wb, computed exactly as a*wb < b*wa in 128
// bits (no floats, no overflow).
func lessLoaded(a, wa, b, wb uint64) bool {
	ahi, alo := bits.Mul64(a, wb)
	bhi, blo := bits.Mul64(b, wa)
	return ahi < bhi || (ahi == bhi && alo < blo)
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
