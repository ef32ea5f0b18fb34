package pool

import (
	"testing"
	"time"
)

// acquireOn acquires a request slot on want (avoiding the others).
func acquireOn(t *testing.T, p *Pool, bs []*Backend, want *Backend) {
	t.Helper()
	var avoid Avoid
	for _, b := range bs {
		if b != want {
			avoid.Add(b)
		}
	}
	if got := p.Acquire(&avoid); got != want {
		t.Fatalf("acquired %v, want %s", got, want.Address())
	}
}

// TestUpgradedConnectionIsNotSilent: an upgraded connection holds an
// in-flight slot but waits for no answer, so a backend that only holds
// WebSockets is never taken out as silent; a real request left
// unanswered beside one still is.
func TestUpgradedConnectionIsNotSilent(t *testing.T) {
	const after = 30 * time.Millisecond
	res := Resilience{Silent: Silent{Enabled: true, After: after}, Passive: Passive{MaxEjectedPercent: 50}}
	p, bs, _ := newTestPoolWith(t, Options{Resilience: res}, "127.0.0.1:1", "127.0.0.1:2")
	healthyAll(bs)
	ws, other := bs[0], bs[1]
	acquireOn(t, p, bs, ws)
	ws.Upgraded(time.Millisecond)
	if ws.InFlight() != 1 || ws.UpgradedConns() != 1 {
		t.Fatalf("in flight %d upgraded %d, want 1 and 1", ws.InFlight(), ws.UpgradedConns())
	}
	answer := func() {
		acquireOn(t, p, bs, other)
		other.Release(RequestOK, time.Millisecond)
	}
	for start := time.Now(); time.Since(start) < 20*after; {
		answer()
		time.Sleep(after / 6)
	}
	if ws.State() != StateHealthy {
		t.Fatalf("a backend holding only an upgraded connection went %s", ws.State())
	}

	// A request that is not answered, beside the upgraded connection.
	acquireOn(t, p, bs, ws)
	deadline := time.Now().Add(10 * time.Second)
	for ws.State() == StateHealthy {
		if time.Now().After(deadline) {
			t.Fatal("an unanswered request beside an upgraded connection was never noticed")
		}
		answer()
		time.Sleep(after / 6)
	}
	if st, _ := findStatus(p, ws.Address()); st.Reason != ReasonSilent {
		t.Fatalf("reason %s, want silent", st.Reason)
	}
	ws.Release(RequestOK, time.Millisecond)
	ws.ReleaseUpgraded()
	if ws.InFlight() != 0 || ws.UpgradedConns() != 0 {
		t.Fatalf("in flight %d upgraded %d after release", ws.InFlight(), ws.UpgradedConns())
	}
}

// TestUpgradedConnectionHoldsDrain: a draining backend waits for its
// upgraded connections like for requests; the last one ending completes
// the drain, and ending one is never counted as an error.
func TestUpgradedConnectionHoldsDrain(t *testing.T) {
	p, bs, rec := newTestPoolWith(t, Options{DeregistrationDelay: time.Hour}, "127.0.0.1:1", "127.0.0.1:2")
	healthyAll(bs)
	b := bs[0]
	acquireOn(t, p, bs, b)
	b.Upgraded(time.Millisecond)
	if err := p.Drain(b.Address()); err != nil {
		t.Fatal(err)
	}
	st, _ := findStatus(p, b.Address())
	if b.State() != StateDraining || st.InFlight != 1 || st.Upgraded != 1 {
		t.Fatalf("state %s in_flight %d upgraded %d; want draining, 1, 1", b.State(), st.InFlight, st.Upgraded)
	}
	b.ReleaseUpgraded()
	last := rec.list()[len(rec.list())-1]
	if b.State() != StateDrained || last.Reason != ReasonDrainComplete {
		t.Fatalf("after the last upgraded connection ended: %s %+v", b.State(), last)
	}
	if st, _ := findStatus(p, b.Address()); st.Errors != 0 || st.Upgraded != 0 {
		t.Fatalf("errors %d upgraded %d", st.Errors, st.Upgraded)
	}
}
