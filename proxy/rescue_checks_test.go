package proxy

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
)

// TestRescueWhenChecksGetNoAnswer: with silent detection off, so that only
// the health checks can judge it, a backend that stops answering is
// found UNHEALTHY by probes that time out; the GET already waiting on it
// is rescued to the good backend at that verdict, not left to the header
// timeout. (Before, only a silent or passive_ejection verdict rescued,
// and a check timeout shorter than silent_after often judged a hung
// backend first: CI saw the waiting requests wait for the whole hang.)
// When the checks fail with an answer (a status mismatch) the backend
// answers, and its waiting request keeps waiting for it.
func TestRescueWhenChecksGetNoAnswer(t *testing.T) {
	const headerTimeout = 2 * time.Second
	for _, tc := range []struct {
		outcome pool.Reason
		rescued bool
	}{
		{pool.ReasonTimeout, true},
		{pool.ReasonStatusMismatch, false},
	} {
		t.Run(string(tc.outcome), func(t *testing.T) {
			var okA, swept atomic.Int64
			got := make(chan string, 100)
			hung := hangingBackend(t, got)
			up := &Upstream{
				Pool: newRescuePoolWith(t, pool.Resilience{
					Passive: pool.Passive{MaxEjectedPercent: 50},
				}, &swept, hung, okBackend(t, "a", &okA)),
				HeaderTimeout: headerTimeout,
			}
			l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
			b := backendAt(t, up.Pool, hung)

			// GETs until one waits on the hung backend (round robin
			// gets there within two).
			ex := newExchanges(l)
			for tries, onHung := 0, false; !onHung; tries++ {
				if tries == 6 {
					t.Fatal("the hung backend got no GET in 6 tries")
				}
				done := ex.send("GET", "GET /stuck HTTP/1.1\r\nHost: lb\r\n\r\n")
				select {
				case <-got:
					onHung = true
				case <-done: // answered by the good backend
				}
			}
			start := time.Now()
			for b.State() != pool.StateUnhealthy {
				b.ObserveCheck(pool.CheckResult{Outcome: tc.outcome, Detail: "probe"})
			}
			var stuck answer // the slowest: the one the hung backend got
			for _, a := range ex.results() {
				if a.err != nil {
					t.Fatalf("GET: %v after %v", a.err, a.took)
				}
				if a.took >= stuck.took {
					stuck = a
				}
			}
			waited := time.Since(start)
			switch {
			case tc.rescued && (stuck.status != 200 || stuck.body != "a"):
				t.Errorf("stuck GET: %d %q, want 200 from the good backend", stuck.status, stuck.body)
			case tc.rescued && waited >= headerTimeout-100*time.Millisecond:
				t.Errorf("stuck GET answered %v after the verdict: it waited for the header timeout", waited)
			case tc.rescued && b.Rescued() != 1:
				t.Errorf("rescued %d, want 1", b.Rescued())
			case !tc.rescued && stuck.status != fasthttp.StatusGatewayTimeout:
				t.Errorf("stuck GET: %d %q, want the header timeout's 504 (the backend answers its checks)", stuck.status, stuck.body)
			case !tc.rescued && b.Rescued() != 0:
				t.Errorf("rescued %d from a backend whose checks get an answer, want 0", b.Rescued())
			}
			t.Logf("stuck GET: %d %q after %v", stuck.status, stuck.body, stuck.took.Round(time.Millisecond))
			checkReleased(t, up.Pool)
		})
	}
}
