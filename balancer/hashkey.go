package balancer

// The hash of request keys and of ring points. It is fixed (no per-process
// seed) on purpose: several load balancers with the same backends must
// send a key to the same backend, and a restart must not move every key.
// FNV-1a (64-bit) over the bytes, then the splitmix64 finalizer so that
// keys differing in one byte land far apart on the ring.

const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
	// golden is 2^64 / phi, the splitmix64 increment: successive points
	// of one target are mix64(addressHash + j*golden).
	golden = 0x9e3779b97f4a7c15
)

// HashKey returns the request key of b (a header value, a cookie, a
// client address...): a deterministic 64-bit hash, the same in every
// process and version of lb, never NoKey. It is safe for concurrent use
// and allocates nothing; O(len(b)).
func HashKey(b []byte) uint64 {
	h := uint64(fnvOffset64)
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime64
	}
	return KeyOf(mix64(h))
}

// HashKeyString is HashKey of a string, without converting it.
func HashKeyString(s string) uint64 {
	h := uint64(fnvOffset64)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime64
	}
	return KeyOf(mix64(h))
}

// KeyOf turns a hash the caller computed itself into a request key: h,
// or 1 when h is NoKey (0), so that no key reads as "no key".
func KeyOf(h uint64) uint64 {
	if h == NoKey {
		return 1
	}
	return h
}

// mix64 is the splitmix64 finalizer: a bijection of uint64 whose every
// output bit depends on every input bit.
func mix64(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	z ^= z >> 31
	return z
}
