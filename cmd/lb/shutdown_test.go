package main

import (
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// readyzProbe polls the LB's /readyz back to back (as fast as it answers)
// until stopped, remembering when the first request answered 503 was
// sent.
type readyzProbe struct {
	stop  chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	first time.Time // send time of the first request answered 503
	polls int
}

func startReadyzProbe(t *testing.T, admin string) *readyzProbe {
	p := &readyzProbe{stop: make(chan struct{}), done: make(chan struct{})}
	c := client(t, 2*time.Second)
	go func() {
		defer close(p.done)
		for {
			select {
			case <-p.stop:
				return
			default:
			}
			sent := time.Now()
			code, _, _, err := httpGet(c, "http://"+admin+"/readyz")
			p.mu.Lock()
			p.polls++
			if err == nil && code == 503 && p.first.IsZero() {
				p.first = sent
			}
			p.mu.Unlock()
		}
	}()
	t.Cleanup(p.end)
	return p
}

// firstUnready is the send time of the first request answered 503 (zero
// before).
func (p *readyzProbe) firstUnready() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.first
}

func (p *readyzProbe) end() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
}

// TestGracefulShutdownWithRequestsInFlight: SIGTERM with 50 two-second
// requests in flight. /readyz turns 503 at once, the listener still takes
// new requests during shutdown_delay, all 50 complete, exit status 0, and
// every step is logged.
func TestGracefulShutdownWithRequestsInFlight(t *testing.T) {
	a := freePorts(t, 4)
	adminAddr, lbAddr, b1, b2 := a[0], a[1], a[2], a[3]
	startBackend(t, b1, "b1")
	startBackend(t, b2, "b2")
	const shutdownDelay = time.Second
	lb, _ := startLB(t, lbConfig(adminAddr, lbAddr, `  shutdown_delay = "1s"
  grace_period   = "20s"`, "", b1, b2))
	c := client(t, 5*time.Second)
	waitHealthy(t, c, adminAddr, b1, b2)
	if code, body, _, err := httpGet(c, "http://"+adminAddr+"/readyz"); err != nil || code != 200 {
		t.Fatalf("/readyz = %d %v %s before the signal", code, err, body)
	}

	slow := client(t, 30*time.Second)
	var chans []<-chan reply
	for range 50 {
		chans = append(chans, getAsync(slow, "http://"+lbAddr+"/?sleep=2s"))
	}
	eventually(t, 10*time.Second, "50 requests in flight", func() bool {
		st, ok := getStatus(c, adminAddr)
		return ok && st.inFlight() == 50
	})
	probe := startReadyzProbe(t, adminAddr)
	eventually(t, 5*time.Second, "the readyz probe running", func() bool {
		probe.mu.Lock()
		defer probe.mu.Unlock()
		return probe.polls > 0
	})

	sigAt := time.Now()
	lb.signal(t, syscall.SIGTERM)
	eventually(t, 5*time.Second, "/readyz answers 503", func() bool { return !probe.firstUnready().IsZero() })
	probe.end()
	toUnready := probe.firstUnready().Sub(sigAt)

	// A new connection and request while the listener still serves.
	fresh := client(t, 5*time.Second)
	newSent := time.Now()
	code, _, _, err := httpGet(fresh, "http://"+lbAddr+"/")
	newAnswered := time.Since(sigAt)
	if err != nil || code != 200 {
		t.Errorf("new request %s after SIGTERM (shutdown_delay %s): status %d, err %v",
			newSent.Sub(sigAt).Round(time.Millisecond), shutdownDelay, code, err)
	}
	if newAnswered >= shutdownDelay {
		t.Errorf("the new request was answered %s after SIGTERM, not within shutdown_delay %s: it proves nothing", newAnswered, shutdownDelay)
	}

	exit := lb.wait(t, 30*time.Second)
	toExit := time.Since(sigAt)
	replies := collect(t, 10*time.Second, chans)
	ok := 0
	for _, r := range replies {
		if r.err == nil && r.code == 200 {
			ok++
		} else if len(replies)-ok <= 5 {
			t.Errorf("in-flight request: status %d, err %v", r.code, r.err)
		}
	}
	// Negative: a poll sent just before the signal was answered after it.
	t.Logf("SIGTERM -> send of the first /readyz request answered 503: %s (%d back-to-back polls)", toUnready, probe.polls)
	t.Logf("SIGTERM -> new request during shutdown_delay answered after %s", newAnswered.Round(time.Millisecond))
	t.Logf("SIGTERM -> exit %s (shutdown_delay 1s, requests of 2s in flight, grace_period 20s); %d/50 answered 200",
		toExit.Round(time.Millisecond), ok)
	if toUnready > 100*time.Millisecond {
		t.Errorf("/readyz still answered 200 %s after SIGTERM; want 503 within 100ms", toUnready)
	}
	if ok != 50 {
		t.Errorf("%d of 50 in-flight requests answered 200", ok)
	}
	if exit != 0 {
		t.Errorf("exit status %d, want 0", exit)
	}
	if toExit < shutdownDelay {
		t.Errorf("exited %s after SIGTERM, before shutdown_delay %s", toExit, shutdownDelay)
	}
	checkShutdownSteps(t, lb)
}

// checkShutdownSteps checks that the lb logged the four steps of its
// shutdown, in order.
func checkShutdownSteps(t *testing.T, lb *proc) {
	t.Helper()
	var steps []string
	for _, e := range lb.logEntries() {
		if msg := e.str("msg"); strings.HasPrefix(msg, "shutdown ") && len(msg) >= len("shutdown N/4") {
			steps = append(steps, msg[:len("shutdown N/4")])
		}
	}
	if got, want := strings.Join(steps, ", "), "shutdown 1/4, shutdown 2/4, shutdown 3/4, shutdown 4/4"; got != want {
		t.Errorf("shutdown log steps %q, want %q", got, want)
	}
}

// TestGracePeriodCutsLongRequests: without a shutdown delay, a request
// longer than grace_period is cut when it runs out (the client gets an
// answer, not a hang), the process still exits 0, and every step is
// logged.
func TestGracePeriodCutsLongRequests(t *testing.T) {
	a := freePorts(t, 3)
	adminAddr, lbAddr, b := a[0], a[1], a[2]
	startBackend(t, b, "b1")
	lb, _ := startLB(t, lbConfig(adminAddr, lbAddr, `  grace_period = "1s"`, "", b))
	c := client(t, 5*time.Second)
	waitHealthy(t, c, adminAddr, b)
	ch := getAsync(client(t, 20*time.Second), "http://"+lbAddr+"/?sleep=5s")
	eventually(t, 10*time.Second, "the 5 s request in flight", func() bool {
		st, ok := getStatus(c, adminAddr)
		return ok && st.inFlight() == 1
	})
	sigAt := time.Now()
	lb.signal(t, syscall.SIGTERM)
	code := lb.wait(t, 10*time.Second)
	toExit := time.Since(sigAt)
	r := collect(t, 10*time.Second, []<-chan reply{ch})[0]
	t.Logf("SIGTERM -> exit %s (shutdown_delay 0s, grace_period 1s, a 5 s request in flight: status %d, err %v)",
		toExit.Round(time.Millisecond), r.code, r.err)
	if code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	if toExit < 900*time.Millisecond || toExit > 4*time.Second {
		t.Errorf("exit %s after SIGTERM; want about grace_period 1s", toExit)
	}
	if r.err == nil && r.code == 200 {
		t.Errorf("the 5 s request completed: it should have been cut at the end of grace_period")
	}
	if _, ok := lb.findLog(func(e logEntry) bool { return strings.HasPrefix(e.str("msg"), "grace period over") }); !ok {
		t.Errorf("no log line for the end of the grace period")
	}
	checkShutdownSteps(t, lb)
}

// TestSecondSignalExitsAtOnce: a second SIGTERM during shutdown_delay
// (here derived from upstream_probe) ends the process at once with a
// non-zero status.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	a := freePorts(t, 3)
	adminAddr, lbAddr, b := a[0], a[1], a[2]
	startBackend(t, b, "b1")
	// The delay derived from the prober in front: 10s x 2 + 10s = 30s.
	lb, _ := startLB(t, lbConfig(adminAddr, lbAddr, `  upstream_probe {
    interval            = "10s"
    unhealthy_threshold = 2
  }`, "", b))
	c := client(t, 5*time.Second)
	waitHealthy(t, c, adminAddr, b)

	lb.signal(t, syscall.SIGTERM)
	eventually(t, 10*time.Second, "shutdown_delay under way", func() bool {
		_, ok := lb.findLog(func(e logEntry) bool { return strings.HasPrefix(e.str("msg"), "shutdown 2/4") })
		return ok
	})
	if e, ok := lb.findLog(func(e logEntry) bool { return strings.HasPrefix(e.str("msg"), "shutdown 1/4") }); !ok ||
		e.num("shutdown_delay") != 30 || !strings.Contains(e.str("timing"), "upstream_probe") {
		t.Errorf("shutdown 1/4 line %v: want shutdown_delay 30s derived from upstream_probe", e)
	}
	if code, _, _, err := httpGet(c, "http://"+lbAddr+"/"); err != nil || code != 200 {
		t.Errorf("request during shutdown_delay: %d %v", code, err)
	}
	second := time.Now()
	lb.signal(t, syscall.SIGTERM)
	code := lb.wait(t, 10*time.Second)
	t.Logf("second SIGTERM -> exit %s, status %d", time.Since(second).Round(time.Millisecond), code)
	if code == 0 {
		t.Errorf("exit status 0 after a second signal; want non-zero")
	}
	if _, ok := lb.findLog(func(e logEntry) bool { return strings.HasPrefix(e.str("msg"), "second signal") }); !ok {
		t.Errorf("no log line for the second signal")
	}
	if _, ok := lb.findLog(func(e logEntry) bool { return strings.HasPrefix(e.str("msg"), "shutdown 3/4") }); ok {
		t.Errorf("the shutdown went on after the second signal")
	}
}
