package pool

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/lbtrust/lb/balancer"
)

// Pools of 3, 100 and 10,000 backends (issue 14: pick cost at 10,000
// backends): what a request costs (Acquire and Release through each real
// policy) and what a change of the eligible set costs (one backend
// leaving or joining rotation: the machine, the snapshot rebuild with its
// picker, the outbox).

// scaleSizes are the pool sizes measured.
var scaleSizes = []int{3, 100, 10_000}

// scaleAddr is the i-th backend's address (127.0.0.1 only; nothing
// listens, nothing dials).
func scaleAddr(i int) string { return "127.0.0.1:" + strconv.Itoa(10_000+i) }

// scalePool returns a pool of n HEALTHY backends under policy name, each
// of weight weight(i), with thresholds of 1 (one probe moves a backend)
// and the request-path signals off. The caller closes it. The backends
// come up one probe each under the test round robin (whose picker costs
// nothing to build), then the pool switches to the policy: n
// transitions, each O(n), are the price of a pool coming up.
func scalePool(tb testing.TB, name string, n int, weight func(int) int) (*Pool, []*Backend) {
	tb.Helper()
	policy, err := balancer.New(name)
	if err != nil {
		tb.Fatal(err)
	}
	p := New(Options{Name: "scale", Policy: &rrPolicy{}, Thresholds: Thresholds{Healthy: 1, Unhealthy: 1}})
	bs := make([]*Backend, n)
	for i := range bs {
		if bs[i], _, err = p.Add(scaleAddr(i), weight(i)); err != nil {
			tb.Fatal(err)
		}
	}
	for _, b := range bs {
		pass(b)
	}
	p.SetPolicy(policy)
	if got := p.Eligible(); got != n {
		tb.Fatalf("%d eligible, want %d", got, n)
	}
	return p, bs
}

// TestAcquireAllocatesNothingAtScale pins 0 allocations per request
// (Acquire and Release, with and without a backend to avoid, with a
// request key) for every policy at 3, 100 and 10,000 backends.
func TestAcquireAllocatesNothingAtScale(t *testing.T) {
	sizes := scaleSizes
	if raceEnabled {
		sizes = []int{3, 100, 1000}
	}
	for _, n := range sizes {
		for _, w := range scaleWeights {
			p, _ := scalePool(t, balancer.RoundRobin, n, w.of)
			t.Cleanup(p.Close)
			for _, name := range balancer.Names() {
				t.Run(fmt.Sprintf("%s/%s/%d", name, w.name, n), func(t *testing.T) {
					policy, _ := balancer.New(name)
					p.SetPolicy(policy)
					var k uint64
					allocs := testing.AllocsPerRun(1000, func() {
						var a Avoid
						k++
						a.SetKey(HashKey([]byte{byte(k), byte(k >> 8)}))
						b := p.Acquire(&a)
						a.Add(b)
						if n > 1 {
							c := p.Acquire(&a)
							c.Release(RequestOK, 0)
						}
						b.Release(RequestOK, 0)
					})
					if allocs != 0 {
						t.Fatalf("Acquire/Release allocate %.1f times", allocs)
					}
				})
			}
		}
	}
}

// scaleWeights are the weight shapes measured: all equal, and cycling
// 1, 2, 3.
var scaleWeights = []struct {
	name string
	of   func(int) int
}{
	{"uniform", func(int) int { return 1 }},
	{"weighted", func(i int) int { return 1 + i%3 }},
}

// forEachScale runs fn as policy/weights/size over a pool built once per
// weights and size (building 10,000 HEALTHY backends one probe at a time
// takes a while) and switched between policies with SetPolicy.
func forEachScale(parent *testing.B, fn func(b *testing.B, p *Pool, bs []*Backend)) {
	type key struct{ w, n int }
	built := map[key]struct {
		p  *Pool
		bs []*Backend
	}{}
	for _, name := range balancer.Names() {
		for wi, w := range scaleWeights {
			for _, n := range scaleSizes {
				parent.Run(fmt.Sprintf("%s/%s/%d", name, w.name, n), func(b *testing.B) {
					k := key{wi, n}
					e, ok := built[k]
					if !ok {
						e.p, e.bs = scalePool(b, balancer.RoundRobin, n, w.of)
						built[k] = e
						parent.Cleanup(e.p.Close)
					}
					policy, _ := balancer.New(name)
					e.p.SetPolicy(policy)
					b.ResetTimer()
					fn(b, e.p, e.bs)
				})
			}
		}
	}
}

// BenchmarkAcquireReleaseAt is one request's pool cost, every core
// acquiring at once.
func BenchmarkAcquireReleaseAt(b *testing.B) {
	forEachScale(b, func(b *testing.B, p *Pool, _ []*Backend) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				p.Acquire(nil).Release(RequestOK, 0)
			}
		})
	})
}

// BenchmarkEligibilityChange is one transition that changes the eligible
// set (a backend fails its check and leaves rotation, then passes and
// comes back; one op each), as a checker's report pays it under the
// pool's lock.
func BenchmarkEligibilityChange(b *testing.B) {
	forEachScale(b, func(b *testing.B, p *Pool, bs []*Backend) {
		x := bs[len(bs)/2]
		b.ReportAllocs()
		up := true
		for b.Loop() {
			if up {
				fail(x)
			} else {
				pass(x)
			}
			up = !up
		}
		if !up {
			pass(x)
		}
		if p.Eligible() != len(bs) {
			b.Fatalf("%d eligible after the run, want %d", p.Eligible(), len(bs))
		}
	})
}

// TestSetResilienceRebuildsOnlyForRouting: a reload sets every pool's
// resilience; only the settings the eligible snapshot depends on rebuild
// it (an O(n) rebuild per pool per reload otherwise).
func TestSetResilienceRebuildsOnlyForRouting(t *testing.T) {
	base := Resilience{PanicThreshold: 50, Passive: Passive{Enabled: true}}
	tests := []struct {
		name    string
		change  func(*Resilience)
		rebuild bool
	}{
		{"nothing", func(*Resilience) {}, false},
		{"passive ejection", func(r *Resilience) { r.Passive.ConsecutiveFailures = 9 }, false},
		{"silent detection", func(r *Resilience) { r.Silent.Enabled = true }, false},
		{"panic_threshold", func(r *Resilience) { r.PanicThreshold = 10 }, true},
		{"when_all_unhealthy", func(r *Resilience) { r.FailClosed = true }, true},
		{"slow_start", func(r *Resilience) { r.SlowStart = time.Minute }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, bs, _ := newTestPoolWith(t, Options{Resilience: base}, "127.0.0.1:1", "127.0.0.1:2")
			pass(bs[0])
			pass(bs[1])
			before := p.snap.Load()
			r := base
			tt.change(&r)
			p.SetResilience(r)
			if rebuilt := p.snap.Load() != before; rebuilt != tt.rebuild {
				t.Fatalf("snapshot rebuilt: %v, want %v", rebuilt, tt.rebuild)
			}
			if p.Eligible() != 2 {
				t.Fatalf("%d eligible, want 2", p.Eligible())
			}
		})
	}
}
