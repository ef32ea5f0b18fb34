package etcd

import (
	"math/rand/v2"
	"time"
)

// Delays between reads after a failure (see the package doc).
const (
	// MinBackoff is the delay after the first failure in a row.
	MinBackoff = 200 * time.Millisecond
	// MaxBackoff caps the delay, however many failures in a row.
	MaxBackoff = 10 * time.Second
)

// backoff is a capped exponential delay, MinBackoff doubling to
// MaxBackoff. The zero value is ready; not safe for concurrent use.
type backoff struct {
	next time.Duration // the next delay before jitter; 0 means MinBackoff
}

// delay returns the next delay, randomized by up to a fifth either way,
// and doubles the one after it.
func (b *backoff) delay() time.Duration {
	d := b.next
	if d == 0 {
		d = MinBackoff
	}
	b.next = min(2*d, MaxBackoff)
	return d - d/5 + rand.N(2*d/5+1)
}

// reset makes the next delay MinBackoff again.
func (b *backoff) reset() { b.next = 0 }
