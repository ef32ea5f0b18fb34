// Package balancer holds the selection policies that pick one backend out of
// an immutable snapshot of eligible backends.
//
// The contract is split in two so that the request path stays lock-free and
// allocation-free:
//
//   - A Policy is created once per pool. Every time the pool's eligible set
//     changes (a state transition, a reload), the pool calls
//     Policy.NewPicker with the new set, off the request path. Any
//     precomputation (a smooth weighted schedule, a weight total) happens
//     there.
//   - A Picker is bound to one snapshot and is read by every request:
//     Pick must be safe for concurrent use, take no lock and allocate
//     nothing.
//
// New returns a fresh Policy by configuration name (see Names and the
// RoundRobin, WeightedRoundRobin, LeastConn, Random, PowerOfTwo and
// ConsistentHash constants for each policy's behaviour and cost).
//
// Every Pick gets the request's key (a hash the caller computed, or
// NoKey): the package knows nothing of HTTP, so what the key is made of
// (a header, a cookie, the client's address) is the caller's business.
// Only consistent_hash uses it.
//
// Every Pick is O(1) or O(log n) in the snapshot's size n, however large:
// round_robin, random (weighted draws use an alias table) and
// power_of_two are O(1); consistent_hash is O(1) to find the key's
// place on its ring and then walks past targets over their load bound
// (a short walk in expectation, see ConsistentHash); weighted_round_robin walks a precomputed
// schedule (O(1)) or, past its size and build budgets, a stride over
// prefix sums (O(log n)); least_conn scans exactly up to 32 targets (NGINX's
// least_conn) and above that takes the least loaded of 4 candidates, the
// next in rotation and 3 random draws (power-of-d-choices sampling, as
// Envoy's least_request): O(1). An exact least-connections answer over
// thousands of targets needs a full scan per pick or an ordered index
// that every request's start and end would update, one contended
// structure on the hottest path. NewPicker is O(n), plus for
// weighted_round_robin a schedule build bounded by a fixed budget.
// TestPickAllocatesNothingAtScale pins 0 allocations per Pick at 3, 100
// and 10,000 targets, and the benchmarks in bench_test.go measure both.
//
// Weights are read once per snapshot, in NewPicker, and clamped to
// [1, 2^31-1]; a weight change (slow start, a reload) takes effect with the
// next snapshot. In-flight counts are read on every Pick by the policies
// that use them (least_conn, power_of_two); a negative count reads as 0.
//
// This package knows nothing about pools, health or HTTP: a Target is
// anything with a weight and an in-flight count. It has no package-level
// mutable state.
package balancer

// Target is what a policy may know of a backend. Implementations must make
// every method safe for concurrent use and cheap (an atomic load, a field).
type Target interface {
	// Address is the backend's stable identity, the same in every
	// snapshot and every process (consistent_hash places a target on its
	// ring by it, so that several load balancers agree). It is read in
	// NewPicker only.
	Address() string
	// Weight is the backend's static share, >= 1.
	Weight() int
	// InFlight is the number of requests the backend is serving now.
	InFlight() int64
}

// NoKey is the key of a request that has none (see Picker.Pick). A real
// key is never NoKey: HashKey and KeyOf map a hash of 0 elsewhere.
const NoKey uint64 = 0

// Policy builds Pickers for successive snapshots of one pool. A Policy may
// keep state that outlives a snapshot (the round-robin cursor), so each pool
// gets its own Policy value from New. NewPicker is called with the pool's
// lock held, never concurrently with itself for the same Policy, and never
// with an empty slice. It must not retain a reference to targets beyond the
// Picker it returns (the slice is immutable and owned by the snapshot).
type Policy interface {
	// Name is the configuration name of the policy ("round_robin", ...).
	Name() string
	// NewPicker returns a Picker over targets (len(targets) >= 1).
	NewPicker(targets []Target) Picker
}

// Picker picks from one immutable snapshot of targets.
type Picker interface {
	// Pick returns an index in [0, len(targets)) for a request whose key
	// is key: a 64-bit hash of what the request is about (a user, a
	// session, a path; see HashKey), or NoKey. Policies may ignore it;
	// only consistent_hash reads it. It is safe for concurrent use, takes
	// no lock and performs no allocation.
	Pick(key uint64) int
}
