// Package hash64 is the fixed 64-bit hash lb uses wherever several
// processes, or several versions of lb, must compute the same value:
// consistent hashing of request keys and ring points (balancer) and the
// rendezvous ranking of fleet members (fleet). FNV-1a 64 over the bytes,
// then the splitmix64 finalizer, so inputs that differ in one byte land
// far apart. It has no seed on purpose; changing any of it moves every
// key and every backend's owners, which the packages' golden tests catch.
//
// Every function is pure, safe for concurrent use and allocates nothing.
package hash64

// FNV-1a 64-bit parameters: start a hash at Offset.
const (
	Offset = 14695981039346656037
	Prime  = 1099511628211
)

// AddString folds the bytes of s into the FNV-1a hash h.
func AddString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= Prime
	}
	return h
}

// AddBytes folds b into the FNV-1a hash h.
func AddBytes(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= Prime
	}
	return h
}

// Mix is the splitmix64 finalizer: a bijection of uint64 whose every
// output bit depends on every input bit.
func Mix(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	z ^= z >> 31
	return z
}
