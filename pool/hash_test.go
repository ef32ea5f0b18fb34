package pool

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbtrust/lb/balancer"
)

// hashPool returns a pool of n HEALTHY backends under consistent_hash.
func hashPool(t *testing.T, n int) (*Pool, []*Backend) {
	t.Helper()
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = scaleAddr(i)
	}
	p, bs, _ := newTestPoolWith(t, Options{}, addrs...)
	p.SetPolicy(balancer.NewConsistentHash(balancer.DefaultLoadFactor))
	for _, b := range bs {
		pass(b)
	}
	if p.Eligible() != n {
		t.Fatalf("%d eligible, want %d", p.Eligible(), n)
	}
	return p, bs
}

// owners returns the backend each key is sent to (acquired and released
// at once, so no load bound applies).
func owners(t *testing.T, p *Pool, keys []uint64) []*Backend {
	t.Helper()
	out := make([]*Backend, len(keys))
	for i, k := range keys {
		var a Avoid
		a.SetKey(k)
		b := p.Acquire(&a)
		if b == nil {
			t.Fatal("no backend")
		}
		b.Release(RequestOK, 0)
		out[i] = b
	}
	return out
}

// TestHashDrainingBackendKeysMoveAndComeBack: a draining backend's keys
// go elsewhere (and only its keys move); once it is back HEALTHY they
// return to it.
func TestHashDrainingBackendKeysMoveAndComeBack(t *testing.T) {
	p, bs := hashPool(t, 10)
	keys := make([]uint64, 20_000)
	for i := range keys {
		keys[i] = HashKey([]byte("session-" + strconv.Itoa(i)))
	}
	before := owners(t, p, keys)
	gone := bs[3]
	drain(gone) // the backend says it is shutting down
	if gone.State() != StateDrained {
		t.Fatalf("state %v, want drained", gone.State())
	}
	during := owners(t, p, keys)
	moved := 0
	for i := range keys {
		if during[i] == gone {
			t.Fatalf("key %d still goes to the drained backend", i)
		}
		if during[i] != before[i] {
			moved++
			if before[i] != gone {
				t.Fatalf("key %d moved from %s, which did not drain", i, before[i].Address())
			}
		}
	}
	t.Logf("draining 1 of 10 backends moved %.2f%% of 20,000 keys", 100*float64(moved)/float64(len(keys)))
	if moved == 0 {
		t.Fatal("no key moved")
	}
	pass(gone)
	pass(gone) // healthy_threshold 2
	if gone.State() != StateHealthy {
		t.Fatalf("state %v, want healthy", gone.State())
	}
	after := owners(t, p, keys)
	for i := range keys {
		if after[i] != before[i] {
			t.Fatalf("key %d on %s after the drain, was on %s", i, after[i].Address(), before[i].Address())
		}
	}
}

// TestHashRetryGoesElsewhere: a retry of a keyed request (its backend in
// Avoid) goes to another backend.
func TestHashRetryGoesElsewhere(t *testing.T) {
	p, _ := hashPool(t, 3)
	var a Avoid
	a.SetKey(HashKey([]byte("k")))
	b := p.Acquire(&a)
	a.Add(b)
	c := p.Acquire(&a)
	if c == nil || c == b {
		t.Fatalf("retry got %v, want another backend than %s", c, b.Address())
	}
	b.Release(RequestOK, 0)
	c.Release(RequestOK, 0)
}

// TestTotalInFlight: the pool's count follows every acquire, release,
// stream and upgraded connection, and returns to 0.
func TestTotalInFlight(t *testing.T) {
	p, bs := hashPool(t, 3)
	var held []*Backend
	for range 10 {
		held = append(held, p.Acquire(nil))
	}
	if got := p.TotalInFlight(); got != 10 {
		t.Fatalf("TotalInFlight = %d, want 10", got)
	}
	held[0].StartStream(RequestOK, 0)
	held[1].Upgraded(0)
	held[0].EndStream(RequestOK)
	held[1].ReleaseUpgraded()
	for _, b := range held[2:] {
		b.Release(RequestOK, 0)
	}
	if !p.AcquireBackendAt(bs[0], time.Time{}) {
		t.Fatal("AcquireBackendAt refused a healthy backend")
	}
	if got := p.TotalInFlight(); got != 1 {
		t.Fatalf("TotalInFlight = %d, want 1", got)
	}
	bs[0].Release(RequestOK, 0)
	if got := p.TotalInFlight(); got != 0 {
		t.Fatalf("TotalInFlight = %d, want 0", got)
	}
}

// TestAcquireBackendAt: a known backend is taken only while HEALTHY and
// only by its own pool.
func TestAcquireBackendAt(t *testing.T) {
	p, bs := hashPool(t, 3)
	q, qs := hashPool(t, 1)
	if q.AcquireBackendAt(bs[0], time.Time{}) || p.AcquireBackendAt(qs[0], time.Time{}) {
		t.Fatal("a pool acquired another pool's backend")
	}
	if p.AcquireBackendAt(nil, time.Time{}) {
		t.Fatal("nil acquired")
	}
	fail(bs[1])
	fail(bs[1]) // unhealthy_threshold 2
	if bs[1].State() != StateUnhealthy || p.AcquireBackendAt(bs[1], time.Time{}) {
		t.Fatalf("state %v: an unhealthy backend was acquired", bs[1].State())
	}
	drain(bs[2])
	if p.AcquireBackendAt(bs[2], time.Time{}) {
		t.Fatal("a drained backend was acquired")
	}
	before := bs[0].Requests()
	if !p.AcquireBackendAt(bs[0], time.Time{}) {
		t.Fatal("a healthy backend was refused")
	}
	if bs[0].InFlight() != 1 || bs[0].Requests() != before+1 {
		t.Fatalf("in flight %d, requests %d", bs[0].InFlight(), bs[0].Requests())
	}
	bs[0].Release(RequestOK, 0)
	if p.TotalInFlight() != 0 {
		t.Fatalf("TotalInFlight = %d", p.TotalInFlight())
	}
}

// TestMembersVersion changes on add and forget, not on state changes.
func TestMembersVersion(t *testing.T) {
	p, bs := hashPool(t, 2)
	v := p.MembersVersion()
	fail(bs[0])
	if p.MembersVersion() != v {
		t.Fatal("a state change moved the version")
	}
	if _, _, err := p.Add(scaleAddr(9), 1); err != nil {
		t.Fatal(err)
	}
	if p.MembersVersion() == v {
		t.Fatal("an add did not move the version")
	}
}

// BenchmarkAcquireReleaseKeyed is one keyed request's pool cost under
// consistent_hash, every core acquiring at once, with the pool's
// in-flight count moving (the load bound reads it).
func BenchmarkAcquireReleaseKeyed(b *testing.B) {
	for _, n := range scaleSizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			p, _ := scalePool(b, balancer.ConsistentHash, n, func(int) int { return 1 })
			defer p.Close()
			var seq atomic.Uint64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var a Avoid
				for pb.Next() {
					a.SetKey(balancer.KeyOf(seq.Add(0x9e3779b97f4a7c15)))
					p.Acquire(&a).Release(RequestOK, 0)
				}
			})
		})
	}
}
