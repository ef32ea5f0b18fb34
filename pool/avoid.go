package pool

// MaxAvoid is how many backends an Avoid list can hold.
const MaxAvoid = 8

// Avoid lists backends a request has already tried, so that a retry goes
// elsewhere. The zero value is empty and ready to use; it is a value type
// meant to live on the caller's stack (no allocation).
type Avoid struct {
	list [MaxAvoid]*Backend
	n    int
}

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
