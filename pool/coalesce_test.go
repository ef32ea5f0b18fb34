package pool

import (
	"fmt"
	"testing"
	"time"
)

// largePool is a pool of n backends (n >= coalesceFrom: its transitions
// rebuild the snapshot at most once per window), all HEALTHY and in its
// snapshot.
func largePool(t *testing.T, n int) (*Pool, []*Backend) {
	t.Helper()
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("10.0.%d.%d:80", i/250, i%250+1)
	}
	p, bs, _ := newTestPool(t, addrs...)
	for _, b := range bs {
		pass(b)
		pass(b)
	}
	eventuallyEligible(t, p, n)
	return p, bs
}

// eventuallyEligible waits (generously) until p's snapshot holds n
// backends: a coalesced rebuild comes within a window.
func eventuallyEligible(t *testing.T, p *Pool, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for p.Eligible() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d eligible, want %d within 10s", p.Eligible(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestLargePoolCoalescesRebuilds: a burst of transitions in a large pool
// rebuilds the snapshot a few times, not once per transition, and the
// snapshot ends up exact.
func TestLargePoolCoalescesRebuilds(t *testing.T) {
	n := 2 * coalesceFrom
	p, bs := largePool(t, n)
	before := p.snap.Load()
	rebuilds := 0
	for _, b := range bs[:n/2] {
		fail(b)
		fail(b)
		if s := p.snap.Load(); s != before {
			rebuilds++
			before = s
		}
	}
	if rebuilds > 10 {
		t.Errorf("%d rebuilds during a burst of %d transitions, want a few (one per %s window)", rebuilds, n/2, publishWindow)
	}
	eventuallyEligible(t, p, n/2)
}

// TestAcquireRebuildsWhenEveryPickLeft: right after most backends of a
// large pool left (their rebuild still pending), Acquire still finds the
// ones left instead of giving up.
func TestAcquireRebuildsWhenEveryPickLeft(t *testing.T) {
	n := coalesceFrom
	p, bs := largePool(t, n)
	// Wait out the window of the last rebuild so the next transition
	// rebuilds at once, then make the rest pending.
	time.Sleep(2 * publishWindow)
	for _, b := range bs[1:] {
		fail(b)
		fail(b)
	}
	for i := 0; i < 50; i++ {
		b := p.Acquire(nil)
		if b == nil {
			t.Fatalf("Acquire %d gave nothing while %s is HEALTHY", i, bs[0].Address())
		}
		if b != bs[0] {
			t.Fatalf("Acquire %d gave %s (%s), want the only HEALTHY one", i, b.Address(), b.State())
		}
		b.Release(RequestLocal, 0)
	}
}
