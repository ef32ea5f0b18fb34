package proxy

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbtrust/lb/pool"
)

// TestRescueInPanicRoutingGoesToAHealthyBackend: a backend judged silent
// whose verdict leaves too few HEALTHY backends sends the pool into panic
// routing, which also routes to a backend down by its checks (here one
// refusing connections). The requests waiting on the silent backend are
// still rescued, and only to the HEALTHY backend: a rescue to the dead
// one would spend the request's last attempt on a refused connection and
// answer 502 (the 1-hour chaos soak showed it). Panic routing gives the
// silent backend no new request.
func TestRescueInPanicRoutingGoesToAHealthyBackend(t *testing.T) {
	const headerTimeout = 5 * time.Second
	const stuck = 4 // requests held on the hung backend before its verdict
	var okA, swept atomic.Int64
	got := make(chan string, 1000)
	hung := hangingBackend(t, got)
	dead := refusedAddr(t)
	up := &Upstream{
		Pool: newRescuePoolWith(t, pool.Resilience{
			PanicThreshold: 50,
			Silent:         pool.Silent{Enabled: true, After: 500 * time.Millisecond},
			Passive:        pool.Passive{MaxEjectedPercent: 50},
		}, &swept, hung, dead, okBackend(t, "a", &okA)),
		HeaderTimeout: headerTimeout,
		// The default retries with a budget the stuck requests' rescues
		// would use up, leaving the panic GETs refused by the dead
		// backend unretried: not what this test is about.
		Retry: mustRetry(t, RetryOptions{Attempts: 1, On: []string{RetryOnConnectFailure, RetryOnReset}, BudgetPercent: 100}),
	}
	d := backendAt(t, up.Pool, dead)
	for d.State() != pool.StateUnhealthy {
		d.ObserveCheck(pool.CheckResult{Outcome: pool.ReasonConnectionRefused, Detail: "refused"})
	}
	if m := up.Pool.Mode(); m != "normal" {
		t.Fatalf("setup: mode %s with 2 of 3 HEALTHY, want normal", m)
	}
	l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})

	ex := newExchanges(l)
	send := func(path string) <-chan struct{} {
		return ex.send("GET "+path, "GET "+path+" HTTP/1.1\r\nHost: lb\r\n\r\n")
	}
	// GETs one at a time until the hung backend holds stuck of them
	// (round robin over it and a: every other one).
	for held, tries := 0, 0; held < stuck; tries++ {
		if tries == 4*stuck {
			t.Fatalf("the hung backend got %d GETs in %d tries", held, tries)
		}
		select {
		case <-got:
			held++
		case <-send("/stuck"):
		}
	}
	// a keeps answering until the hung backend is judged silent: 1 of 3
	// HEALTHY is under the panic threshold.
	b := backendAt(t, up.Pool, hung)
	deadline := time.Now().Add(15 * time.Second)
	for b.State() != pool.StateUnhealthy && time.Now().Before(deadline) {
		send("/trickle")
		time.Sleep(10 * time.Millisecond)
	}
	if b.State() != pool.StateUnhealthy {
		t.Fatalf("hung backend still %s: never judged silent", b.State())
	}
	if m := up.Pool.Mode(); m != "panic" {
		t.Fatalf("mode %s after the verdict, want panic (1 of 3 HEALTHY)", m)
	}
	ex.wait() // the stuck and trickling GETs, rescued or answered by a
	before := b.Rescued()
	// Panic routing: requests go to a or to the dead backend (and from
	// there, refused, to a on their retry), never to the hung one.
	for i := 0; i < 20; i++ {
		<-send("/panic")
	}
	answers := ex.results()
	if n := b.Rescued() - before; n != 0 { // each would have been rescued (arm)
		t.Errorf("panic routing sent the silent backend %d requests", n)
	}
	for _, a := range answers {
		if a.err != nil || a.status != 200 || a.body != "a" {
			t.Errorf("%s: %d %q %v after %v, want 200 from a", a.kind, a.status, a.body, a.err, a.took)
		} else if a.took >= headerTimeout-100*time.Millisecond {
			t.Errorf("%s took %v: waited for the header timeout instead of being rescued", a.kind, a.took)
		}
	}
	if before < stuck {
		t.Errorf("rescued %d from the hung backend, want at least the %d stuck", before, stuck)
	}
	t.Logf("rescued %d from the hung backend (%d reported by the sweeps); a answered %d",
		before, swept.Load(), okA.Load())
	checkReleased(t, up.Pool)
}
