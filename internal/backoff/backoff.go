// Package backoff spaces retries: a capped exponential delay with jitter,
// for the loops that reconnect to etcd (discovery/etcd, register, fleet),
// and Sleep to wait them out.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff is a delay that starts at Min and doubles after each use up to
// Max; each delay is randomized by up to a fifth either way, so a fleet
// of processes that failed together does not retry in step. The zero
// value is not usable: set Min and Max (Min > 0, Max >= Min). Not safe
// for concurrent use.
type Backoff struct {
	Min, Max time.Duration
	next     time.Duration // the next delay before jitter; 0 means Min
}

// Delay returns the next delay and doubles the one after it.
func (b *Backoff) Delay() time.Duration {
	d := b.next
	if d == 0 {
		d = b.Min
	}
	b.next = min(2*d, b.Max)
	return d - d/5 + rand.N(2*d/5+1)
}

// Reset makes the next delay Min again.
func (b *Backoff) Reset() { b.next = 0 }

// Sleep waits d, or until ctx ends; it reports whether ctx is still live
// (false: stop retrying). The retry loops' one way to wait. A d of 0 or
// less does not wait.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
