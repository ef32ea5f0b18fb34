package main

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBackendShutdownUnderLoad: a backend that announces its own shutdown
// (readyz 503 shutting_down for 2 s, then stop) under a constant load of a
// few hundred requests per second through three backends. No client request
// may fail, and no new request may reach it later than one check interval
// after its readyz turned 503.
func TestBackendShutdownUnderLoad(t *testing.T) {
	a := freePorts(t, 5)
	adminAddr, lbAddr, backends := a[0], a[1], a[2:]
	leaving := startBackend(t, backends[0], "b1", "-drain-delay", "2s")
	startBackend(t, backends[1], "b2")
	startBackend(t, backends[2], "b3")
	lb, _ := startLB(t, lbConfig(adminAddr, lbAddr, "", "", backends...))
	c := client(t, 5*time.Second)
	waitHealthy(t, c, adminAddr, backends...)

	load := startLoad("http://"+lbAddr+"/", 4, 5*time.Millisecond)
	t.Cleanup(func() { load.end() })
	eventually(t, 10*time.Second, "every backend serving", func() bool {
		return load.servedBy("b1") > 5 && load.servedBy("b2") > 5 && load.servedBy("b3") > 5
	})

	// b1's /readyz answers 503 from the moment it handles the signal;
	// sigAt is taken just before sending it, so it is never late.
	sigAt := time.Now()
	leaving.signal(t, syscall.SIGTERM)
	eventually(t, 10*time.Second, "/status shows b1 draining because it asked", func() bool {
		b, ok := backendStatus(t, c, adminAddr, backends[0])
		// DRAINING lasts only until its few in-flight requests end; after
		// that it is DRAINED (reason drain_complete) and its last check
		// still says why.
		return ok && (b.State == "draining" && b.Reason == "backend_draining" ||
			b.State == "drained" && b.LastCheck != nil && b.LastCheck.Outcome == "backend_draining")
	})
	if !lb.transitionLogged(backends[0], "draining", "backend_draining") {
		t.Errorf("no log line for b1 healthy -> draining (backend_draining)")
	}
	if code := leaving.wait(t, 15*time.Second); code != 0 {
		t.Errorf("backend exit code %d after SIGTERM", code)
	}
	exitedAt := time.Since(sigAt)
	// Keep the load on for a while after the backend is gone.
	after := load.count()
	eventually(t, 10*time.Second, "200 more requests after the backend exited", func() bool {
		return load.count() >= after+200
	})
	results := load.end()

	var last time.Time
	servedAfter := 0
	for _, r := range results {
		if r.backend == "b1" {
			if r.at.After(last) {
				last = r.at
			}
			if r.at.After(sigAt) {
				servedAfter++
			}
		}
	}
	lastNew := last.Sub(sigAt)
	t.Logf("%d client GETs through 3 backends; b1 served %d, %d of them sent after its SIGTERM", len(results), load.servedBy("b1"), servedAfter)
	t.Logf("b1 readyz 503 -> start of the last request it served: %s (check interval %s); b1 exited %s after SIGTERM",
		lastNew.Round(time.Millisecond), checkInterval, exitedAt.Round(time.Millisecond))
	if failed := failures(t, results); failed > 0 {
		t.Errorf("%d of %d GETs failed", failed, len(results))
	}
	// The probe in progress at SIGTERM may have got a 200; the next one
	// starts at most interval x 1.1 (jitter) later and sees the 503. The
	// 70 ms of slack cover that probe's own round trip and the signal and
	// timer latency of race-built processes on a loaded 2-core machine.
	// A request sent before the eligible set changes is still sent to b1,
	// so the client's send time of its last request is bounded by it.
	if limit := checkInterval*11/10 + 70*time.Millisecond; lastNew > limit {
		t.Errorf("b1 got a new request %s after its readyz turned 503; want <= %s", lastNew, limit)
	}

	// A restarted instance comes back through its passing checks.
	startBackend(t, backends[0], "b1")
	waitHealthy(t, c, adminAddr, backends[0])
	eventually(t, 10*time.Second, "the restarted b1 serves", func() bool {
		code, _, backend, err := httpGet(c, "http://"+lbAddr+"/")
		return err == nil && code == 200 && backend == "b1"
	})
}

// drainAnswer is the JSON answer of POST .../drain and .../undrain.
type drainAnswer struct {
	Action  string      `json:"action"`
	Pool    string      `json:"pool"`
	Backend backendView `json:"backend"`
}

// TestInFlightRequestsSurviveDrain: 1-second requests in flight on two
// backends when one is drained by an operator and the other announces its
// shutdown: every one completes with 200. Undrain brings the first back.
func TestInFlightRequestsSurviveDrain(t *testing.T) {
	a := freePorts(t, 4)
	adminAddr, lbAddr, b1, b2 := a[0], a[1], a[2], a[3]
	startBackend(t, b1, "b1")
	leaving := startBackend(t, b2, "b2", "-drain-delay", "2s")
	lb, _ := startLB(t, lbConfig(adminAddr, lbAddr, "", "", b1, b2))
	c := client(t, 5*time.Second)
	waitHealthy(t, c, adminAddr, b1, b2)

	for _, u := range []string{"/pools/web/backends/127.0.0.1:1/drain", "/pools/nope/backends/" + b1 + "/drain"} {
		if code, body, err := post(c, "http://"+adminAddr+u); err != nil || code != 404 {
			t.Errorf("POST %s = %d %v %s, want 404", u, code, err, body)
		}
	}

	slow := client(t, 20*time.Second)
	var chans []<-chan reply
	for range 10 {
		chans = append(chans, getAsync(slow, "http://"+lbAddr+"/?sleep=1s"))
	}
	eventually(t, 10*time.Second, "10 requests in flight on both backends", func() bool {
		st, ok := getStatus(c, adminAddr)
		x, _ := st.backend(b1)
		y, _ := st.backend(b2)
		return ok && x.InFlight+y.InFlight == 10 && x.InFlight > 0 && y.InFlight > 0
	})
	// The slower way out first: b2 is seen leaving at its next probe.
	leaving.signal(t, syscall.SIGTERM)
	code, body, err := post(c, "http://"+adminAddr+"/pools/web/backends/"+b1+"/drain")
	if err != nil || code != 200 {
		t.Fatalf("drain b1: %d %v %s", code, err, body)
	}
	var ans drainAnswer
	if err := json.Unmarshal([]byte(body), &ans); err != nil {
		t.Fatalf("drain answer %q: %v", body, err)
	}
	if ans.Action != "drain" || ans.Backend.State != "draining" || ans.Backend.HeldBy != "admin_drain" || ans.Backend.InFlight == 0 {
		t.Errorf("drain answer %s: want b1 draining, held_by admin_drain, with requests in flight", body)
	}

	replies := collect(t, 15*time.Second, chans)
	served := map[string]int{}
	for _, r := range replies {
		if r.err != nil || r.code != 200 {
			t.Errorf("in-flight request: status %d, err %v (%s after it was sent)", r.code, r.err, r.ended.Sub(r.sent))
		}
		served[r.backend]++
	}
	t.Logf("10 one-second requests answered 200 by %v", served)
	if served["b1"] == 0 || served["b2"] == 0 {
		t.Errorf("requests were not spread over both backends: %v", served)
	}
	// b2's requests were still running when the LB saw its 503.
	e, ok := lb.findLog(func(e logEntry) bool {
		return e.str("msg") == "backend state changed" && e.str("backend") == b2 &&
			e.str("to") == "draining" && e.str("reason") == "backend_draining"
	})
	switch {
	case !ok:
		t.Errorf("no log line for b2 -> draining (backend_draining)")
	case e.num("in_flight") == 0:
		t.Errorf("b2 started draining with nothing in flight: the test did not test it")
	}

	eventually(t, 10*time.Second, "b1 DRAINED, held by admin_drain", func() bool {
		b, ok := backendStatus(t, c, adminAddr, b1)
		return ok && b.State == "drained" && b.Reason == "drain_complete" && b.HeldBy == "admin_drain" && b.InFlight == 0
	})
	// Its checks pass (healthy_threshold is 2), but an operator's drain
	// holds.
	eventually(t, 10*time.Second, "b1 passing 3 checks in a row while drained", func() bool {
		b, ok := backendStatus(t, c, adminAddr, b1)
		return ok && b.ConsecutivePasses >= 3
	})
	if b, _ := backendStatus(t, c, adminAddr, b1); b.State != "drained" || b.HeldBy != "admin_drain" {
		t.Errorf("b1 %s (held by %q) after its checks passed; an admin drain must hold", b.State, b.HeldBy)
	}
	code, body, err = post(c, "http://"+adminAddr+"/pools/web/backends/"+b1+"/undrain")
	if err != nil || code != 200 {
		t.Fatalf("undrain b1: %d %v %s", code, err, body)
	}
	waitHealthy(t, c, adminAddr, b1)
	if b, _ := backendStatus(t, c, adminAddr, b1); b.HeldBy != "" {
		t.Errorf("b1 still held by %q after undrain", b.HeldBy)
	}
	eventually(t, 10*time.Second, "b1 serves again", func() bool {
		code, _, backend, err := httpGet(c, "http://"+lbAddr+"/")
		return err == nil && code == 200 && backend == "b1"
	})
	if code := leaving.wait(t, 15*time.Second); code != 0 {
		t.Errorf("b2 exit code %d", code)
	}
}

// TestDeregistrationDelayCancels: a drained backend's request that runs
// longer than deregistration_delay is cancelled when the delay runs out,
// counted in /status and logged.
func TestDeregistrationDelayCancels(t *testing.T) {
	a := freePorts(t, 3)
	adminAddr, lbAddr, b := a[0], a[1], a[2]
	startBackend(t, b, "solo")
	lb, _ := startLB(t, lbConfig(adminAddr, lbAddr, "", `  deregistration_delay = "1s"`, b))
	c := client(t, 5*time.Second)
	waitHealthy(t, c, adminAddr, b)

	// The only backend of the pool: the request cannot be retried elsewhere.
	ch := getAsync(client(t, 20*time.Second), "http://"+lbAddr+"/?sleep=5s")
	eventually(t, 10*time.Second, "the 5 s request in flight", func() bool {
		st, ok := backendStatus(t, c, adminAddr, b)
		return ok && st.InFlight == 1
	})
	drainAt := time.Now()
	code, body, err := post(c, "http://"+adminAddr+"/pools/web/backends/"+b+"/drain")
	if err != nil || code != 200 {
		t.Fatalf("drain: %d %v %s", code, err, body)
	}
	if st, ok := backendStatus(t, c, adminAddr, b); ok && st.State == "draining" {
		if st.DrainSecondsLeft == nil || *st.DrainSecondsLeft > 1 || st.InFlight != 1 {
			t.Errorf("draining backend shows drain_seconds_left %v, in_flight %d; want <= 1 and 1", st.DrainSecondsLeft, st.InFlight)
		}
	}
	r := collect(t, 15*time.Second, []<-chan reply{ch})[0]
	elapsed := r.ended.Sub(drainAt)
	t.Logf("5 s request cut %s after the drain (deregistration_delay 1s): status %d, err %v", elapsed.Round(time.Millisecond), r.code, r.err)
	if r.err == nil && r.code == 200 {
		t.Errorf("the request completed with 200; it should have been cancelled")
	}
	if elapsed < 500*time.Millisecond || elapsed > 4*time.Second {
		t.Errorf("the client got its answer %s after the drain; want about 1s", elapsed)
	}
	eventually(t, 5*time.Second, "/status shows the cancellation", func() bool {
		st, ok := backendStatus(t, c, adminAddr, b)
		return ok && st.State == "drained" && st.Reason == "deregistration_timeout" && st.Detail == "1 request cancelled"
	})
	eventually(t, 5*time.Second, "the log says how many requests were cancelled", func() bool {
		_, ok := lb.findLog(func(e logEntry) bool {
			return strings.HasPrefix(e.str("msg"), "deregistration delay over") && e.str("backend") == b &&
				(e.num("requests") == 1 || e.num("in_flight") == 1)
		})
		return ok
	})
}
