package pool

import (
	"testing"
	"time"
)

// TestSilentBackendLeftOutOfPanicRouting: a backend held out as silent
// while it pushes the pool into panic routing gets no new request there
// (it answers nothing: a request would wait for the hang, and silent
// detection does not run in panic mode), the requests waiting on it may
// be rescued, but only to a HEALTHY backend (AcquireHealthyAt), and a
// backend down by its checks still gets its panic share. Its answer
// brings it back and the pool routes normally again.
func TestSilentBackendLeftOutOfPanicRouting(t *testing.T) {
	res := Resilience{PanicThreshold: 50, Silent: Silent{Enabled: true, After: 30 * time.Millisecond},
		Passive: Passive{MaxEjectedPercent: 100}}
	p, bs, _ := newTestPoolWith(t, Options{Resilience: res}, "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3")
	healthyAll(bs)
	fail(bs[1])
	fail(bs[1]) // down by its checks: 2 of 3 HEALTHY, normal routing
	if p.Mode() != "normal" || bs[1].State() != StateUnhealthy {
		t.Fatalf("setup: mode %s, b1 %s", p.Mode(), bs[1].State())
	}

	// One request held on b0, which never answers; b2 answers.
	var held *Backend
	for held == nil {
		if b := p.Acquire(nil); b == bs[0] {
			held = b
		} else {
			b.Release(RequestOK, time.Millisecond)
		}
	}
	var waiting []*Backend
	deadline := time.Now().Add(10 * time.Second)
	for bs[0].State() != StateUnhealthy {
		if time.Now().After(deadline) {
			t.Fatal("b0 never judged silent")
		}
		if b := p.Acquire(nil); b == bs[0] {
			waiting = append(waiting, b) // b0 answers nothing
		} else {
			b.Release(RequestOK, time.Millisecond)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if st, _ := findStatus(p, bs[0].Address()); st.Reason != ReasonSilent || p.Mode() != "panic" {
		t.Fatalf("b0 %s (%s), mode %s; want unhealthy (silent) and panic routing", st.State, st.Reason, p.Mode())
	}
	if !bs[0].Rescuable() {
		t.Error("the requests waiting on a silent backend panic routing leaves out are not rescuable")
	}
	got := map[*Backend]int{}
	for range 1000 {
		b := p.Acquire(nil)
		got[b]++
		b.Release(RequestLocal, 0)
	}
	if got[bs[0]] != 0 || got[bs[1]] == 0 || got[bs[2]] == 0 {
		t.Errorf("panic routing picks: silent b0 %d, b1 (down by checks) %d, b2 %d; want 0, some, some",
			got[bs[0]], got[bs[1]], got[bs[2]])
	}

	// A rescue goes to a HEALTHY backend only: b2, never b1 (down by
	// its checks) nor b0; none once b2 is avoided.
	for range 100 {
		if b := p.AcquireHealthyAt(nil, time.Time{}); b != bs[2] {
			t.Fatalf("rescue target in panic routing: %v, want b2", b)
		} else {
			b.Release(RequestLocal, 0)
		}
	}
	var avoid Avoid
	avoid.Add(bs[2])
	if b := p.AcquireHealthyAt(&avoid, time.Time{}); b != nil {
		t.Errorf("rescue target with b2 tried: %s, want none", b.Address())
	}

	held.Release(RequestOK, time.Second) // it answers at last
	for _, b := range waiting {
		b.Release(RequestOK, time.Second)
	}
	if bs[0].State() != StateHealthy || p.Mode() != "normal" {
		t.Fatalf("after its answer: b0 %s, mode %s; want healthy, normal", bs[0].State(), p.Mode())
	}
}
