package pool

import (
	"testing"
	"time"
)

// TestAtVariantsTakeTheCallersClock: AcquireAt and ReleaseAt record the
// times they are given, on the pool's clock, where Acquire and Release
// read the clock themselves; neither allocates.
func TestAtVariantsTakeTheCallersClock(t *testing.T) {
	p, bs, _ := newTestPool(t, "127.0.0.1:1")
	pass(bs[0])
	start := p.epoch.Add(3 * time.Second)
	b := p.AcquireAt(nil, start)
	if got := b.busySince.Load(); got != int64(3*time.Second) {
		t.Fatalf("busySince %v, want 3s", time.Duration(got))
	}
	b.ReleaseAt(RequestOK, time.Millisecond, start.Add(time.Second))
	if got := b.lastAnswer.Load(); got != int64(4*time.Second) {
		t.Fatalf("lastAnswer %v, want 4s", time.Duration(got))
	}
	before := p.now()
	b = p.Acquire(nil)
	b.Release(RequestOK, time.Millisecond)
	if got := b.busySince.Load(); got < before || got > p.now() {
		t.Fatalf("Acquire: busySince %v, not the pool's clock now", time.Duration(got))
	}
	if got := b.lastAnswer.Load(); got < before || got > p.now() {
		t.Fatalf("Release: lastAnswer %v, not the pool's clock now", time.Duration(got))
	}
	now := time.Now()
	if n := testing.AllocsPerRun(1000, func() {
		p.AcquireAt(nil, now).ReleaseAt(RequestOK, time.Millisecond, now)
	}); n != 0 {
		t.Fatalf("AcquireAt/ReleaseAt allocate %.1f times", n)
	}
}
