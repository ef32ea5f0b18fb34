package balancer

import (
	"math"
	"math/bits"
	"sync/atomic"

	"github.com/lbtrust/lb/internal/hash64"
)

// DefaultLoadFactor is consistent_hash's default load_factor: no target
// takes more than 1.25 times its fair share of the requests in flight
// (the value Mirrokni et al. and HAProxy's hash-balance-factor suggest).
const DefaultLoadFactor = 1.25

// Ring size. Each weight unit gets ringPointsPerWeight points (as ketama
// and NGINX's "hash ... consistent" do) while the snapshot's total weight
// times that is at most ringMaxPoints; above, the points per weight unit
// halve for each doubling of the total weight (at 10,000 targets of
// weight 1: 10 each), so that a snapshot's ring costs at most about
// ringMaxPoints to build, whatever the pool. A target's points are a
// prefix of one fixed sequence, so crossing such a size keeps half of
// every target's points (and moves the keys of the other half once).
const (
	ringPointsPerWeight = 160
	ringMaxPoints       = 1 << 17
)

// Total is the pool-wide in-flight count that a load-bounded policy
// compares each target's with.
type Total interface {
	// TotalInFlight is the number of requests in flight on the pool's
	// backends: those of the snapshot and any that left it with
	// requests still running. Safe for concurrent use and cheap (one
	// atomic load).
	TotalInFlight() int64
}

// TotalAware is a Policy whose pickers read the pool's total in-flight
// count (consistent_hash's bounded loads). A pool that keeps such a count
// builds its pickers with NewPickerWithTotal; from NewPicker, a picker
// sums its targets' counts on every keyed Pick instead (O(n)).
type TotalAware interface {
	Policy
	// NewPickerWithTotal is NewPicker with the pool's total, read on
	// every keyed Pick. total must not be nil.
	NewPickerWithTotal(targets []Target, total Total) Picker
}

// NewConsistentHash returns a fresh consistent_hash Policy (see
// ConsistentHash) whose targets take at most loadFactor times their fair
// share of the requests in flight: a target of weight w out of a total
// weight W accepts a key while its in-flight count is below
// loadFactor * (m+1) * w / W, m being the pool's requests in flight
// before this one. loadFactor must be above 1 (a cap of exactly the mean
// would make picks walk far); +Inf turns the bound off (plain consistent
// hashing); anything else (<= 1, NaN) is taken as DefaultLoadFactor.
// Values near 1 balance tighter and move more keys away from their own
// target under load.
func NewConsistentHash(loadFactor float64) Policy {
	if !(loadFactor > 1) {
		loadFactor = DefaultLoadFactor
	}
	return &consistentHash{loadFactor: loadFactor}
}

// consistentHash keeps the round-robin cursor of keyless requests across
// snapshots, like roundRobin.
type consistentHash struct {
	cursor atomic.Uint64
	_      [cacheLinePad]byte
	// loadFactor is read only by NewPicker.
	loadFactor float64
}

func (*consistentHash) Name() string { return ConsistentHash }

// NewPicker builds the ring; see TotalAware for the cost of its Pick.
func (p *consistentHash) NewPicker(targets []Target) Picker {
	return p.build(targets, nil)
}

// NewPickerWithTotal builds the ring, with the pool's total.
func (p *consistentHash) NewPickerWithTotal(targets []Target, total Total) Picker {
	return p.build(targets, total)
}

// hashPicker is one snapshot's ring: the targets' points sorted by hash
// (hashes, with their targets in owners), and a bucket index over the top
// bits of the hash, so that finding a key's place is O(1): start[b] is
// the first point whose top bits are >= b.
type hashPicker struct {
	targets []Target
	weights []uint64 // nil when all weights are equal
	// bound: a target of weight w accepts a request while its in-flight
	// count is below bound * w * (m+1), m the pool's in-flight count
	// (loadFactor / total weight); +Inf when loads are not bounded.
	bound  float64
	total  Total // nil: the sum over targets
	cursor *atomic.Uint64

	hashes []uint64
	owners []int32
	start  []uint32
	shift  uint
}

// build makes the ring of targets in O(points), with a counting sort on
// the hashes' top bits (points spread uniformly, so each bucket holds
// about one and is finished by an insertion sort).
func (p *consistentHash) build(targets []Target, total Total) Picker {
	ws, sum, uniform := weights(targets)
	// Points per weight unit: ringPointsPerWeight >> k, for the least
	// k that fits the budget. sum < 2^56 for any pool of fewer than
	// 2^25 targets, so sum*ringPointsPerWeight cannot overflow.
	units := sum * ringPointsPerWeight
	k := uint(0)
	for units>>k > ringMaxPoints {
		k++
	}
	pointsOf := func(i int) int {
		return int(max((ws[i]*ringPointsPerWeight)>>k, 1))
	}
	n := 0
	for i := range targets {
		n += pointsOf(i)
	}
	order := uint(bits.Len(uint(n - 1))) // 2^order >= n buckets
	shift := 64 - order
	buckets := 1 << order
	start := make([]uint32, buckets+1)
	seeds := make([]uint64, len(targets))
	for i, t := range targets {
		seeds[i] = HashKeyString(t.Address())
		for j := range pointsOf(i) {
			start[point(seeds[i], j)>>shift+1]++
		}
	}
	for b := 1; b <= buckets; b++ {
		start[b] += start[b-1]
	}
	hashes := make([]uint64, n)
	owners := make([]int32, n)
	next := make([]uint32, buckets)
	copy(next, start[:buckets])
	for i := range targets {
		for j := range pointsOf(i) {
			h := point(seeds[i], j)
			b := h >> shift
			at := next[b]
			next[b]++
			// Insertion sort within the bucket as points arrive.
			for at > start[b] && hashes[at-1] > h {
				hashes[at], owners[at] = hashes[at-1], owners[at-1]
				at--
			}
			hashes[at], owners[at] = h, int32(i)
		}
	}
	pk := &hashPicker{
		targets: targets,
		bound:   p.loadFactor / float64(sum),
		total:   total,
		cursor:  &p.cursor,
		hashes:  hashes,
		owners:  owners,
		start:   start,
		shift:   shift,
	}
	if !uniform {
		pk.weights = ws
	}
	if math.IsInf(p.loadFactor, 1) {
		pk.bound = math.Inf(1)
	}
	return pk
}

// point is the j-th point of the target whose address hashes to seed.
func point(seed uint64, j int) uint64 {
	return hash64.Mix(seed + uint64(j+1)*golden)
}

// Pick returns the target of key: the owner of the first point at or
// after key on the ring (wrapping) whose load is under its bound, or,
// when every target is at its bound (counts moving under the walk), the
// owner of the key's own point. NoKey goes round robin. O(1) to find the
// key's point; the walk past full targets is short in expectation (fewer
// than 1/loadFactor of the targets can be full at once), and at most the
// ring's length.
func (p *hashPicker) Pick(key uint64) int {
	n := len(p.targets)
	if n == 1 {
		return 0
	}
	if key == NoKey {
		return int((p.cursor.Add(1) - 1) % uint64(n))
	}
	i := p.locate(key)
	if math.IsInf(p.bound, 1) {
		return int(p.owners[i])
	}
	limit := p.bound * float64(p.inFlight()+1)
	first := i
	for range len(p.hashes) {
		t := p.owners[i]
		l := limit
		if p.weights != nil {
			l *= float64(p.weights[t])
		}
		// load < ceil(l) is load < l for an integer load.
		if float64(loadOf(p.targets[t])) < l {
			return int(t)
		}
		if i++; i == len(p.hashes) {
			i = 0
		}
	}
	return int(p.owners[first])
}

// locate returns the index of the first point at or after key, wrapping
// to 0 past the last.
func (p *hashPicker) locate(key uint64) int {
	b := key >> p.shift
	i, end := p.start[b], p.start[b+1]
	for i < end && p.hashes[i] < key {
		i++
	}
	if int(i) == len(p.hashes) {
		return 0
	}
	return int(i)
}

// inFlight is the pool's requests in flight: the Total when there is
// one, else the sum over the snapshot's targets.
func (p *hashPicker) inFlight() uint64 {
	if p.total != nil {
		return uint64(max(p.total.TotalInFlight(), 0))
	}
	var m uint64
	for _, t := range p.targets {
		m += loadOf(t)
	}
	return m
}
