// Package discovery finds a pool's backends in a registry (DNS, etcd) and
// hands each complete set it finds to whoever applies it. A source knows
// nothing of the pools' state: it only says "the backends of this pool are
// now these". The server applies every set through the same diff as a
// reload (docs/DESIGN.md §11), so a discovered change and an edited file
// are one code path.
//
// The sources live in subpackages, one per registry: discovery/dns and
// discovery/etcd. Each has a Run(ctx, Sink) that watches its registry until
// ctx ends.
package discovery

import (
	"cmp"
	"slices"
)

// Target is one backend a source found.
type Target struct {
	// Address is "host:port", host an IP address (sources resolve names
	// themselves, so two sources naming one backend agree on it).
	Address string
	// Weight is the backend's weight, at least 1 as for a backend block;
	// a source maps its registry's weights into that (an SRV weight of 0
	// becomes 1).
	Weight int
}

// Sink receives what a source finds. A source calls its methods from one
// goroutine at a time, never concurrently.
type Sink interface {
	// Update delivers the complete set of targets found by a successful
	// read of the registry, even when it equals the previous one (the
	// sink records the success). The slice is the sink's to keep: the
	// source does not touch it again. An empty set is an authoritative
	// answer that the pool has no backends here (an NXDOMAIN, a prefix
	// with no keys), not a failure.
	Update(targets []Target)
	// Fail reports a failed read: a lookup that timed out or was refused,
	// an unreachable etcd, a lost watch. The last set delivered stays in
	// force; the sink shows it as stale until the next Update.
	Fail(err error)
}

// Normalize sorts targets by address and keeps the first of each address,
// so that equal sets compare equal. It returns the (reused) slice.
func Normalize(targets []Target) []Target {
	slices.SortStableFunc(targets, func(a, b Target) int { return cmp.Compare(a.Address, b.Address) })
	return slices.CompactFunc(targets, func(a, b Target) bool { return a.Address == b.Address })
}
