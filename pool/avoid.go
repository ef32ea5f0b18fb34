package pool

import "github.com/lbtrust/lb/balancer"

// MaxAvoid is how many backends an Avoid list can hold.
const MaxAvoid = 8

// Avoid lists backends a request has already tried, so that a retry goes
// elsewhere, and carries the request's key (SetKey), which every Acquire
// made with it hands to the pool's policy: the first pick, the retries
// and the rescues of one request all see the same key. The zero value is
// empty, without a key, and ready to use; it is a value type meant to
// live on the caller's stack (no allocation).
type Avoid struct {
	list [MaxAvoid]*Backend
	n    int
	key  uint64
}

// NoKey is the key of a request that has none (balancer.NoKey).
const NoKey = balancer.NoKey

// SetKey sets the request's key: a hash of what the request is about (see
// HashKey), or NoKey. Only a key-aware policy (consistent_hash) reads it;
// the others ignore it.
func (a *Avoid) SetKey(key uint64) { a.key = key }

// Key is the key SetKey set (NoKey by default).
func (a *Avoid) Key() uint64 { return a.key }

// HashKey is balancer.HashKey: the request key of b (a header value, a
// cookie, a client address), deterministic across processes and versions,
// never NoKey. It allocates nothing.
func HashKey(b []byte) uint64 { return balancer.HashKey(b) }

// Add records b; beyond MaxAvoid entries the oldest is forgotten.
func (a *Avoid) Add(b *Backend) {
	if a.n < MaxAvoid {
		a.list[a.n] = b
		a.n++
		return
	}
	copy(a.list[:], a.list[1:])
	a.list[MaxAvoid-1] = b
}

// Has reports whether b was added.
func (a *Avoid) Has(b *Backend) bool {
	for i := 0; i < a.n; i++ {
		if a.list[i] == b {
			return true
		}
	}
	return false
}

// Len is the number of backends recorded.
func (a *Avoid) Len() int { return a.n }
