package balancer

import "github.com/lbtrust/lb/internal/hash64"

// The hash of request keys and of ring points. It is fixed (no per-process
// seed) on purpose: several load balancers with the same backends must
// send a key to the same backend, and a restart must not move every key.
// It is internal/hash64: FNV-1a (64-bit) over the bytes, then the
// splitmix64 finalizer so that keys differing in one byte land far apart
// on the ring.

// golden is 2^64 / phi, the splitmix64 increment: successive points of
// one target are hash64.Mix(addressHash + j*golden).
const golden = 0x9e3779b97f4a7c15

// HashKey returns the request key of b (a header value, a cookie, a
// client address...): a deterministic 64-bit hash, the same in every
// process and version of lb, never NoKey. It is safe for concurrent use
// and allocates nothing; O(len(b)).
func HashKey(b []byte) uint64 {
	return KeyOf(hash64.Mix(hash64.AddBytes(hash64.Offset, b)))
}

// HashKeyString is HashKey of a string, without converting it.
func HashKeyString(s string) uint64 {
	return KeyOf(hash64.Mix(hash64.AddString(hash64.Offset, s)))
}

// KeyOf turns a hash the caller computed itself into a request key: h,
// or 1 when h is NoKey (0), so that no key reads as "no key".
func KeyOf(h uint64) uint64 {
	if h == NoKey {
		return 1
	}
	return h
}
