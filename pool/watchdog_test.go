package pool

import (
	"testing"
	"time"
)

// TestWatchdogParksWhenIdle: with no request waiting on any backend the
// silent-detection watchdog parks (no timer: an idle pool costs nothing),
// and the next request wakes it, so a backend that then stops answering
// is still judged silent.
func TestWatchdogParksWhenIdle(t *testing.T) {
	res := Resilience{Silent: Silent{Enabled: true, After: 30 * time.Millisecond}, Passive: Passive{MaxEjectedPercent: 50}}
	p, bs, _ := newTestPoolWith(t, Options{Resilience: res}, "127.0.0.1:1", "127.0.0.1:2")
	healthyAll(bs)
	waitParked := func(what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !p.watchParked.Load() {
			if time.Now().After(deadline) {
				t.Fatalf("watchdog not parked %s", what)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitParked("in an idle pool")

	// A request answered at once: woken, then parked again.
	b := p.Acquire(nil)
	if p.watchParked.Load() {
		t.Fatal("an Acquire left the watchdog parked")
	}
	b.Release(RequestOK, time.Millisecond)
	waitParked("after the pool went idle again")

	// One backend holds a request and never answers; the other answers.
	stuck := p.Acquire(nil)
	other := bs[0]
	if other == stuck {
		other = bs[1]
	}
	deadline := time.Now().Add(10 * time.Second)
	for stuck.State() != StateUnhealthy {
		if time.Now().After(deadline) {
			t.Fatal("the backend that stopped answering after an idle spell was never judged silent")
		}
		other.inFlight.Add(1)
		other.Release(RequestOK, time.Millisecond)
		time.Sleep(5 * time.Millisecond)
	}
	if st, _ := findStatus(p, stuck.Address()); st.Reason != ReasonSilent {
		t.Fatalf("reason %s, want silent", st.Reason)
	}
	stuck.Release(RequestOK, time.Second)
}
