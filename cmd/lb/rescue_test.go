package main

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// TestHungBackendRescued: with the default pool settings (no retry
// block, no per-try timeout: the header timeout is 30s), one of three
// backends stops answering (SIGSTOP) for 3s while every backend has
// requests in flight (each takes 30ms). The requests already waiting on
// it are rescued as soon as it is judged silent, or found down by checks
// that time out (200ms here, which CI saw win the race against
// silent_after's 300ms and leave them waiting): no client request fails
// and none waits anywhere near the 3s the backend is stopped. /status
// counts the rescues on that backend and the log says how many were
// rescued from it.
func TestHungBackendRescued(t *testing.T) {
	const hangFor = 3 * time.Second
	addrs := freePorts(t, 5)
	lbAddr, admin, backends := addrs[0], addrs[1], addrs[2:]
	cfg := lbConfig(admin, lbAddr, "", "", backends...)
	c := client(t, 5*time.Second)
	var procs []*proc
	for i, a := range backends {
		procs = append(procs, startBackend(t, a, fmt.Sprintf("b%d", i+1)))
	}
	lb, _ := startLB(t, cfg)
	waitHealthy(t, c, admin, backends...)
	hung := procs[1]
	t.Cleanup(func() { hung.cmd.Process.Signal(syscall.SIGCONT) })

	// 200 GETs/s of 30ms each: about two in flight on every backend at
	// any moment, so the stop catches some.
	load := startPacedLoad(t, "http://"+lbAddr+"/?sleep=30ms", 200)
	load.waitServing(t, "b1", "b2", "b3")

	hung.signal(t, syscall.SIGSTOP)
	stopped := time.Now()
	eventually(t, 10*time.Second, "hung backend out of rotation", func() bool {
		_, b, ok := webBackend(c, admin, backends[1])
		return ok && b.State == "unhealthy"
	})
	time.Sleep(time.Until(stopped.Add(hangFor)))
	hung.signal(t, syscall.SIGCONT)
	before := load.servedBy("b2")
	eventually(t, 10*time.Second, "resumed backend serves again", func() bool {
		return load.servedBy("b2") > before
	})
	results := load.end()

	if failed := timedFailures(t, results); failed > 0 {
		t.Errorf("%d of %d client GETs failed", failed, len(results))
	}
	p99, n := latencyQuantile(results, 0.99)
	maxL, _ := latencyQuantile(results, 1)
	t.Logf("%d GETs: p99 %s, max %s", n, p99.Round(100*time.Microsecond), maxL.Round(time.Millisecond))
	// Generous for a loaded machine, and far below the stop: a request
	// left waiting on the stopped backend takes at least hangFor.
	if maxL >= time.Second {
		t.Errorf("slowest GET took %s: a request waited on the stopped backend", maxL.Round(time.Millisecond))
	}

	ps, ok := getPools(c, admin)
	if !ok {
		t.Fatal("no /status")
	}
	var rescued uint64
	for _, p := range ps {
		for _, b := range p.Backends {
			switch {
			case b.Address == backends[1]:
				rescued = b.Rescued
			case b.Rescued != 0:
				// A slow answer on a loaded machine may be judged silent
				// too: not an error, but worth seeing.
				t.Logf("backend %s (never stopped): %d rescued", b.Address, b.Rescued)
			}
		}
	}
	if rescued == 0 {
		t.Error("/status: no request rescued from the stopped backend: the test proves nothing")
	}
	logged := 0.0
	for _, e := range lb.logEntries() {
		if e.str("msg") == "requests rescued from a backend that stopped answering" && e.str("backend") == backends[1] {
			logged += e.num("rescued")
		}
	}
	// A request that reached the backend after the sweep moves itself
	// and is in no log line.
	if logged == 0 || uint64(logged) > rescued {
		t.Errorf("the log says %v rescued from %s, want 1..%d (/status)", logged, backends[1], rescued)
	}
	t.Logf("rescued from the stopped backend: %d (/status), %v (log)", rescued, logged)
}
