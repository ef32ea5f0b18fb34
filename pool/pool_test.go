package pool

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbtrust/lb/balancer"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// rrPolicy is a test-local round robin so these tests do not depend on the
// balancer package's policies.
type rrPolicy struct{ next atomic.Uint64 }

func (p *rrPolicy) Name() string { return "test_rr" }
func (p *rrPolicy) NewPicker(ts []balancer.Target) balancer.Picker {
	return &rrPicker{p: p, n: uint64(len(ts))}
}

type rrPicker struct {
	p *rrPolicy
	n uint64
}

func (r *rrPicker) Pick(uint64) int { return int(r.p.next.Add(1) % r.n) }

// recorder keeps the transitions a pool emits.
type recorder struct {
	mu  sync.Mutex
	got []Transition
}

func (r *recorder) add(t Transition) { r.mu.Lock(); r.got = append(r.got, t); r.mu.Unlock() }

// list returns the transitions so far.
func (r *recorder) list() []Transition {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Transition(nil), r.got...)
}

func newTestPool(t testing.TB, addrs ...string) (*Pool, []*Backend, *[]Transition) {
	// A long deregistration delay: these tests end drains themselves.
	p, bs, rec := newTestPoolWith(t, Options{DeregistrationDelay: time.Hour}, addrs...)
	_ = rec
	return p, bs, &rec.got
}

func newTestPoolWith(t testing.TB, o Options, addrs ...string) (*Pool, []*Backend, *recorder) {
	t.Helper()
	rec := &recorder{}
	o.Name, o.Policy, o.Thresholds, o.OnTransition = "web", &rrPolicy{}, Thresholds{Healthy: 2, Unhealthy: 2}, rec.add
	p := New(o)
	t.Cleanup(p.Close)
	var bs []*Backend
	for _, a := range addrs {
		b, _, err := p.Add(a, 1)
		if err != nil {
			t.Fatal(err)
		}
		bs = append(bs, b)
	}
	return p, bs, rec
}

func pass(b *Backend) { b.ObserveCheck(CheckResult{Outcome: ReasonCheckPassed, Code: 200}) }
func drain(b *Backend) {
	b.ObserveCheck(CheckResult{Outcome: ReasonBackendDraining, Code: 503, Detail: "503"})
}
func fail(b *Backend) {
	err := errors.New("connection refused")
	b.ObserveCheck(CheckResult{Outcome: ReasonConnectionRefused, Err: err, Detail: err.Error()})
}

func TestOnlyHealthyBackendsAreAcquired(t *testing.T) {
	p, bs, _ := newTestPool(t, "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3")
	if b := p.Acquire(nil); b != nil {
		t.Fatalf("INITIAL backend acquired: %s", b.Address())
	}
	pass(bs[0])
	pass(bs[2])
	seen := map[string]int{}
	for i := 0; i < 100; i++ {
		b := p.Acquire(nil)
		seen[b.Address()]++
		b.Release(RequestOK, 0)
	}
	if seen["127.0.0.1:2"] != 0 || seen["127.0.0.1:1"] != 50 || seen["127.0.0.1:3"] != 50 {
		t.Fatalf("distribution %v", seen)
	}
	fail(bs[0])
	fail(bs[0])
	for i := 0; i < 10; i++ {
		b := p.Acquire(nil)
		if b != bs[2] {
			t.Fatalf("got %s after 127.0.0.1:1 went UNHEALTHY", b.Address())
		}
		b.Release(RequestOK, 0)
	}
	if p.Eligible() != 1 {
		t.Fatalf("eligible %d, want 1", p.Eligible())
	}
}

func TestAcquireAvoidsTriedBackends(t *testing.T) {
	p, bs, _ := newTestPool(t, "127.0.0.1:1", "127.0.0.1:2")
	pass(bs[0])
	pass(bs[1])
	for i := 0; i < 20; i++ {
		var a Avoid
		first := p.Acquire(&a)
		a.Add(first)
		second := p.Acquire(&a)
		if second == nil || second == first {
			t.Fatalf("retry got %v after %s", second, first.Address())
		}
		a.Add(second)
		if third := p.Acquire(&a); third != nil {
			t.Fatalf("got %s with every backend avoided", third.Address())
		}
		first.Release(RequestOK, 0)
		second.Release(RequestOK, 0)
	}
}

func TestDrainingFinishesWhenLastRequestEnds(t *testing.T) {
	p, bs, got := newTestPool(t, "127.0.0.1:1")
	pass(bs[0])
	b := p.Acquire(nil)
	drain(b)
	if b.State() != StateDraining {
		t.Fatalf("state %s, want draining", b.State())
	}
	if p.Acquire(nil) != nil {
		t.Fatal("a DRAINING backend got a new request")
	}
	b.Release(RequestOK, 0)
	if b.State() != StateDrained {
		t.Fatalf("state %s after the last request, want drained", b.State())
	}
	want := []struct {
		from, to State
		reason   Reason
	}{
		{StateInitial, StateHealthy, ReasonInitialCheck},
		{StateHealthy, StateDraining, ReasonBackendDraining},
		{StateDraining, StateDrained, ReasonDrainComplete},
	}
	if len(*got) != len(want) {
		t.Fatalf("transitions %+v", *got)
	}
	for i, w := range want {
		g := (*got)[i]
		if g.From != w.from || g.To != w.to || g.Reason != w.reason || g.Pool != "web" || g.Backend != "127.0.0.1:1" {
			t.Fatalf("transition %d = %+v, want %+v", i, g, w)
		}
	}
	// The restarted instance comes back through the healthy threshold.
	pass(b)
	if b.State() != StateDrained {
		t.Fatalf("one pass brought a drained backend back")
	}
	pass(b)
	if b.State() != StateHealthy {
		t.Fatalf("state %s after healthy_threshold passes", b.State())
	}
}

func TestDrainWithNothingInFlightCompletesAtOnce(t *testing.T) {
	_, bs, got := newTestPool(t, "127.0.0.1:1")
	pass(bs[0])
	drain(bs[0])
	if bs[0].State() != StateDrained || len(*got) != 3 {
		t.Fatalf("state %s, transitions %+v", bs[0].State(), *got)
	}
}

func TestDuplicateBackendRejected(t *testing.T) {
	p, _, _ := newTestPool(t, "127.0.0.1:1")
	if _, _, err := p.Add("127.0.0.1:1", 1); err == nil {
		t.Fatal("duplicate accepted")
	}
}

func TestStatusShowsStateReasonAndCounts(t *testing.T) {
	p, bs, _ := newTestPool(t, "127.0.0.1:1", "127.0.0.1:2")
	pass(bs[0])
	fail(bs[1])
	fail(bs[1])
	b := p.Acquire(nil)
	st := p.Status()
	b.Release(RequestOK, 0)
	if st.Name != "web" || st.Eligible != 1 || len(st.Backends) != 2 {
		t.Fatalf("status %+v", st)
	}
	b0, b1 := st.Backends[0], st.Backends[1]
	if b0.State != StateHealthy || b0.Reason != ReasonInitialCheck || b0.InFlight != 1 || b0.Requests != 1 || b0.LastCheck == nil || b0.LastCheck.Code != 200 {
		t.Fatalf("backend 0 %+v", b0)
	}
	if b1.State != StateUnhealthy || b1.Reason != ReasonConnectionRefused || b1.ConsecutiveFailures != 2 || b1.LastCheck.Error == "" {
		t.Fatalf("backend 1 %+v", b1)
	}
}

func TestConcurrentAcquireAndTransitions(t *testing.T) {
	p, bs, _ := newTestPool(t, "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3")
	for _, b := range bs {
		pass(b)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if b := p.Acquire(nil); b != nil {
					b.Release(RequestOK, 0)
				}
			}
		}()
	}
	for i := 0; i < 200; i++ {
		b := bs[i%3]
		fail(b)
		fail(b)
		pass(b)
		pass(b)
	}
	close(stop)
	wg.Wait()
	for _, b := range bs {
		if b.InFlight() != 0 {
			t.Fatalf("%s in flight %d", b.Address(), b.InFlight())
		}
	}
}

func TestAcquireDoesNotAllocate(t *testing.T) {
	p, bs, _ := newTestPool(t, "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3")
	for _, b := range bs {
		pass(b)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		var a Avoid
		b := p.Acquire(&a)
		a.Add(b)
		c := p.Acquire(&a)
		c.Release(RequestOK, 0)
		b.Release(RequestOK, 0)
	})
	if allocs != 0 {
		t.Fatalf("Acquire/Release allocate %.1f times", allocs)
	}
}

func BenchmarkAcquireRelease(b *testing.B) {
	p, bs, _ := newTestPool(b, "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3")
	for _, x := range bs {
		pass(x)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.Acquire(nil).Release(RequestOK, 0)
		}
	})
}
