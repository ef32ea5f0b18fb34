package server

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// renamedPoolConfig is a listener routed to one pool named name with one
// backend, whose drains end after delay (deregistration_delay) and whose
// idle backend connections are closed after 1s.
func renamedPoolConfig(name, backend, delay string) string {
	return fmt.Sprintf(`
listener "public" {
  address = "127.0.0.1:0"
  pool    = %[1]q
}
pool %[1]q {
  deregistration_delay = %[3]q
  idle_conn_timeout    = "1s"
  health_check {
    interval = "100ms"
    timeout  = "50ms"
  }
  backend %[2]q {}
}
`, name, backend, delay)
}

// retiredCount is how many pools a reload removed are still kept.
func retiredCount(lb *LB) int {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	return len(lb.retired)
}

// isRetired reports whether a pool named name is among them.
func isRetired(lb *LB, name string) bool {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	for _, pr := range lb.retired {
		if pr.pool.Name() == name {
			return true
		}
	}
	return false
}

// poolSeries counts the series of lb's registry labelled with a pool
// other than keep.
func poolSeries(t *testing.T, lb *LB, keep string) int {
	t.Helper()
	mfs, err := lb.metrics.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "pool" && l.GetValue() != keep {
					n++
				}
			}
		}
	}
	return n
}

// stacks returns the stack of every running goroutine.
func stacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Split(string(buf[:n]), "\n\n")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// goroutines counts the running goroutines other than fasthttp's idle
// workers and connection cleaners, which end on their own after up to
// 10s (the ones leakcheck ignores).
func goroutines() int {
	n := 0
	for _, g := range stacks() {
		if !strings.Contains(g, "fasthttp.(*workerPool).workerFunc") &&
			!strings.Contains(g, "fasthttp.(*workerPool).Start.func2") &&
			!strings.Contains(g, "fasthttp.(*HostClient).connsCleaner") {
			n++
		}
	}
	return n
}

// goroutinesIn counts the running goroutines with fn in their stack.
func goroutinesIn(fn string) int {
	n := 0
	for _, g := range stacks() {
		if strings.Contains(g, fn) {
			n++
		}
	}
	return n
}

// TestReloadRenamesFreeRetiredPools: 100 reloads that each rename the one
// pool leave nothing of the old pools behind once their backends are
// forgotten: no retired pool, no watchdog or checker goroutine, no metric
// series. Every tenth reload retires a pool with a request in flight (it
// drains, then is forgotten) and is kept until then; every 25th one with
// a request that outlives the deregistration delay (cancelled, then
// forgotten).
func TestReloadRenamesFreeRetiredPools(t *testing.T) {
	be := startBackend(t, "b1")
	lb, c, base := runLB(t, renamedPoolConfig("p0", be.Addr(), "1s"))
	waitFor(t, "b1 healthy in p0", healthy(lb, "p0", be.Addr()))
	if code, _ := fetch(c, base+"/"); code != 200 {
		t.Fatalf("GET: %d", code)
	}
	before := goroutines()

	const reloads = 100
	inFlight := make(chan int, reloads)
	held := 0
	for i := 1; i <= reloads; i++ {
		prev := fmt.Sprintf("p%d", i-1)
		if i%10 == 0 || i%25 == 0 {
			// Hold a request on the pool about to be retired.
			waitFor(t, "b1 healthy in "+prev, healthy(lb, prev, be.Addr()))
			sleep := "500ms" // ends within the deregistration delay
			if i%25 == 0 {
				sleep = "3s" // cancelled when the delay runs out
			}
			held++
			go func() { code, _ := fetch(c, base+"/?sleep="+sleep); inFlight <- code }()
			waitFor(t, "request in flight in "+prev, func() bool {
				b, _ := stateOf(lb, prev, be.Addr())
				return b.InFlight > 0
			})
		}
		if err := lb.Reload(mustParse(t, renamedPoolConfig(fmt.Sprintf("p%d", i), be.Addr(), "1s"))); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 && !isRetired(lb, prev) {
			t.Fatalf("reload %d: %s, with a request in flight, is not kept", i, prev)
		}
	}
	afterReloads := retiredCount(lb)
	for range held {
		<-inFlight // 200, or an error for the cancelled ones
	}
	last := fmt.Sprintf("p%d", reloads)
	waitFor(t, "b1 healthy in "+last, healthy(lb, last, be.Addr()))
	if code, _ := fetch(c, base+"/"); code != 200 {
		t.Fatalf("GET after the reloads: %d", code)
	}
	peakRetired, peakGoroutines := retiredCount(lb), goroutines()

	// What is left after a generous deadline is kept for good.
	const slack = 5
	var retired, running, watchdogs, series int
	deadline := time.Now().Add(20 * time.Second)
	for {
		retired, running, series = retiredCount(lb), goroutines(), poolSeries(t, lb, last)
		watchdogs = goroutinesIn("pool.(*Pool).watchdog")
		if retired == 0 && running <= before+slack && watchdogs == 1 && series == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("20s after %d renames: %d retired pools kept (%d right after the last reload), %d goroutines (%d before the reloads, %d right after), %d pool watchdogs (want 1), %d metric series of old pools",
				reloads, retired, afterReloads, running, before, peakGoroutines, watchdogs, series)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%d renames: goroutines %d before, %d right after, %d settled; retired pools %d right after the last reload, %d once its requests ended, 0 settled",
		reloads, before, peakGoroutines, running, afterReloads, peakRetired)
}

// TestShutdownClosesRetiredPools: a pool retired with a request still in
// flight and a long deregistration delay is still kept at shutdown;
// Shutdown closes it (its watchdog stops) and the backend forgotten when
// that request is cut starts nothing.
func TestShutdownClosesRetiredPools(t *testing.T) {
	be := startBackend(t, "b1")
	lb, c, base := runLB(t, renamedPoolConfig("a", be.Addr(), "30s"))
	waitFor(t, "b1 healthy in a", healthy(lb, "a", be.Addr()))
	done := make(chan struct{})
	go func() { fetch(c, base+"/?sleep=3s"); close(done) }() // the backend waits for it at cleanup
	waitFor(t, "request in flight in a", func() bool {
		b, _ := stateOf(lb, "a", be.Addr())
		return b.InFlight > 0
	})
	if err := lb.Reload(mustParse(t, renamedPoolConfig("b", be.Addr(), "30s"))); err != nil {
		t.Fatal(err)
	}
	if !isRetired(lb, "a") {
		t.Fatal("a, with a request in flight, is not kept")
	}
	// b's watchdog may not have run yet (its stack then names only the
	// go statement).
	waitFor(t, "2 pool watchdogs (a retired, b in service)", func() bool {
		return goroutinesIn("pool.(*Pool).watchdog") == 2
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	lb.Shutdown(ctx) // cuts the request: ctx.Err()
	if n := goroutinesIn("pool.(*Pool).watchdog"); n != 0 {
		t.Fatalf("%d pool watchdogs still running after Shutdown", n)
	}
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("the request in flight at shutdown did not end within 15s")
	}
}
