// Package fleet lets several lb instances share their active health
// checks through etcd: membership, ownership, verdicts, drains and the
// rule that combines owners' verdicts. server/fleet.go wires it to the
// pools and checkers (README, "Sharing health checks across instances").
//
// # Ownership
//
// Each backend is probed by R owners chosen among the live members by
// rendezvous (highest-random-weight) hashing: Owners ranks the members by
// Score(member, backend), a fixed, seedless 64-bit hash (FNV-1a, then the
// splitmix64 finalizer), and takes the R highest. Every instance that
// sees the same member set computes the same owners, and a member that
// joins or leaves moves only its own share.
//
// # Membership
//
// A Membership keeps this instance's key, prefix + "members/" + name
// (value: the name), under a lease of TTL (DefaultTTL, 5s) kept alive
// with KeepAlive, so a dead instance leaves the set when its lease
// expires and a stopped one leaves at once (its lease is revoked). It
// reads prefix + "members/" at revision R and watches it from R+1, as
// discovery/etcd does; it starts over (a new lease, a new read) with a
// backoff from MinBackoff to MaxBackoff when the lease is lost, the
// read fails, the watch is canceled (compaction, no leader) or the watch
// stream goes silent.
//
// Members is the sorted live set and always holds this instance's own
// name. While etcd cannot be reached (not yet registered, lease lost,
// watch lost) Connected is false and Members is just this instance: the
// server then probes every backend itself, which errs on the side of
// more probes, never fewer.
// Changed signals (coalesced, never blocking the Membership) after
// Members or Connected changed.
package fleet
