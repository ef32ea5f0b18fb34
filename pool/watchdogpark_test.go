package pool

import (
	"sync"
	"testing"
	"time"
)

// TestWatchdogSurvivesParkRace: the watchdog parks when no request waits
// and looks again before sleeping; a request that arrives between its
// look and the flag going up sends it back to its loop. It must then
// still have a timer to wait on. Before, it waited on a timer that had
// already fired, and silent detection was off for the rest of the
// process (a 10-minute chaos run: no hang detected after the second
// minute). Requests come and go on several goroutines, with no request
// in flight between them, as many times as it takes to hit the window
// often; then a backend goes silent and must be skipped.
func TestWatchdogSurvivesParkRace(t *testing.T) {
	res := Resilience{Silent: Silent{Enabled: true, After: 30 * time.Millisecond}, Passive: Passive{MaxEjectedPercent: 50}}
	p, bs, _ := newTestPoolWith(t, Options{Resilience: res}, "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3")
	healthyAll(bs)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			end := time.Now().Add(time.Second)
			for time.Now().Before(end) {
				if b := p.Acquire(nil); b != nil {
					b.Release(RequestOK, time.Microsecond)
				}
			}
		}()
	}
	wg.Wait()
	held := p.Acquire(nil)
	deadline := time.Now().Add(5 * time.Second)
	for held.State() == StateHealthy {
		if time.Now().After(deadline) {
			t.Fatal("a backend that answers nothing while the others answer was never found silent: the watchdog stopped")
		}
		for _, b := range bs {
			if b != held && b.State() == StateHealthy && p.AcquireBackendAt(b, time.Time{}) {
				b.Release(RequestOK, time.Millisecond)
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	held.Release(RequestOK, time.Second)
}
