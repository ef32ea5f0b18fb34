package pool

import (
	"testing"
	"time"
)

// refusedPool is a pool of one HEALTHY backend with passive ejection on
// after one failure: max_ejected_percent (50% of 1, rounded down) refuses
// every ejection. The first failure is reported, so the refusal is made.
func refusedPool(t testing.TB) (*Pool, *Backend) {
	t.Helper()
	res := Resilience{Passive: Passive{Enabled: true, ConsecutiveFailures: 1, BaseEjection: time.Hour, MaxEjectedPercent: 50}}
	p, bs, _ := newTestPoolWith(t, Options{Resilience: res}, "127.0.0.1:1")
	healthyAll(bs)
	b := p.Acquire(nil)
	b.Release(RequestServerError, 0)
	if b.State() != StateHealthy {
		t.Fatalf("a one-backend pool ejected its backend: %s", b.State())
	}
	return p, b
}

// TestRefusedEjectionIsAllocationFree: once an ejection was refused, the
// failures that follow are reported without allocating.
func TestRefusedEjectionIsAllocationFree(t *testing.T) {
	p, _ := refusedPool(t)
	allocs := testing.AllocsPerRun(1000, func() {
		p.Acquire(nil).Release(RequestServerError, time.Millisecond)
	})
	if allocs != 0 {
		t.Fatalf("a failure whose ejection is refused allocates %.1f times", allocs)
	}
}

// TestRefusedEjectionIsLockFree: once an ejection was refused, the
// failures that follow are reported without the pool's lock (here held by
// the test throughout).
func TestRefusedEjectionIsLockFree(t *testing.T) {
	p, b := refusedPool(t)
	done := make(chan struct{})
	p.mu.Lock()
	go func() {
		defer close(done)
		for range 100 {
			b.inFlight.Add(1)
			b.Release(RequestTimeout, 0)
			b.inFlight.Add(1)
			b.Release(RequestTransportError, 0)
		}
	}()
	locked := false
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		locked = true
	}
	p.mu.Unlock()
	<-done
	if locked {
		t.Fatal("reporting a failure whose ejection is refused waited for the pool's lock")
	}
}

// TestRefusedEjectionHappensOnceAllowed: a refusal lasts only while the
// pool stays as it was. The ejection is made at the next failure once the
// cap allows it (another backend came back, one was added, the cap was
// raised) or once the backend is HEALTHY again.
func TestRefusedEjectionHappensOnceAllowed(t *testing.T) {
	res := Resilience{Passive: Passive{Enabled: true, ConsecutiveFailures: 2, BaseEjection: time.Hour, MaxEjectedPercent: 50}}
	p, bs, rec := newTestPoolWith(t, Options{Resilience: res}, "127.0.0.1:1", "127.0.0.1:2")
	healthyAll(bs)
	failN := func(b *Backend, n int) {
		for range n {
			b.inFlight.Add(1)
			b.Release(RequestServerError, 0)
		}
	}
	wantEjected := func(b *Backend) {
		t.Helper()
		last := rec.list()[len(rec.list())-1]
		if b.State() != StateUnhealthy || last.Target != b || last.Reason != ReasonPassiveEjection {
			t.Fatalf("%s not ejected: %s, last transition %+v", b.Address(), b.State(), last)
		}
	}
	backAfterEjection := func(b *Backend) {
		t.Helper()
		b.ObserveCheck(CheckResult{Outcome: ReasonCheckPassed, Code: 200, At: time.Now().Add(2 * time.Hour)})
		if b.State() != StateHealthy {
			t.Fatalf("%s not back: %s", b.Address(), b.State())
		}
	}

	// The cap: one of two may be out.
	failN(bs[0], 2)
	wantEjected(bs[0])
	failN(bs[1], 10)
	if bs[1].State() != StateHealthy {
		t.Fatal("max_ejected_percent exceeded")
	}
	// The other comes back: the next failure ejects.
	backAfterEjection(bs[0])
	failN(bs[1], 1)
	wantEjected(bs[1])

	// Refused because it is not HEALTHY (fail-open routes to it): once
	// it is HEALTHY again, failures eject it.
	fail(bs[0])
	fail(bs[0])
	if p.Mode() != "fail_open" {
		t.Fatalf("mode %s", p.Mode())
	}
	failN(bs[0], 5)
	if last := rec.list()[len(rec.list())-1]; last.Reason == ReasonPassiveEjection && last.Target == bs[0] {
		t.Fatal("an UNHEALTHY backend was ejected")
	}
	backAfterEjection(bs[1])
	pass(bs[0])
	pass(bs[0])
	failN(bs[0], 2)
	wantEjected(bs[0])

	// A backend added to the pool raises the cap.
	backAfterEjection(bs[0])
	q, qs, qrec := newTestPoolWith(t, Options{Resilience: res}, "127.0.0.1:1")
	healthyAll(qs)
	failN(qs[0], 5)
	if qs[0].State() != StateHealthy {
		t.Fatal("a one-backend pool ejected its backend")
	}
	if _, _, err := q.Add("127.0.0.1:2", 1); err != nil {
		t.Fatal(err)
	}
	failN(qs[0], 1)
	rec = qrec
	wantEjected(qs[0])

	// So does a reload that raises max_ejected_percent.
	r, rs, rrec := newTestPoolWith(t, Options{Resilience: res}, "127.0.0.1:1")
	healthyAll(rs)
	failN(rs[0], 5)
	if rs[0].State() != StateHealthy {
		t.Fatal("a one-backend pool ejected its backend")
	}
	res.Passive.MaxEjectedPercent = 100
	r.SetResilience(res)
	failN(rs[0], 1)
	rec = rrec
	wantEjected(rs[0])
}

// BenchmarkReleaseRefusedEjection is the request path of a failing backend
// whose ejection the pool refuses (a one-backend pool).
func BenchmarkReleaseRefusedEjection(b *testing.B) {
	p, _ := refusedPool(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.Acquire(nil).Release(RequestServerError, time.Millisecond)
		}
	})
}
