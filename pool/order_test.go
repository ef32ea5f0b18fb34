package pool

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestOnTransitionInOrderUnderConcurrentWriters changes one backend's
// state from many goroutines at once (probes passing and failing, an
// operator draining and undraining, requests failing into passive
// ejections and ending drains) and checks that OnTransition sees its
// transitions in the order the state machine applied them: each one
// starts where the previous one ended, and the last one ends where the
// backend is.
func TestOnTransitionInOrderUnderConcurrentWriters(t *testing.T) {
	var (
		mu  sync.Mutex
		got []Transition
	)
	res := Resilience{Passive: Passive{Enabled: true, ConsecutiveFailures: 1, BaseEjection: time.Nanosecond, MaxEjectedPercent: 50}}
	p := New(Options{Name: "web", Policy: &rrPolicy{}, Thresholds: Thresholds{Healthy: 1, Unhealthy: 1},
		DeregistrationDelay: time.Hour, Resilience: res,
		OnTransition: func(t Transition) {
			runtime.Gosched() // a hook does some work (metrics, events, connections)
			if t.Backend != "127.0.0.1:1" {
				return
			}
			mu.Lock()
			got = append(got, t)
			mu.Unlock()
		}})
	t.Cleanup(p.Close)
	b, _, _ := p.Add("127.0.0.1:1", 1)
	other, _, _ := p.Add("127.0.0.1:2", 1)
	pass(other)

	const rounds = 2000
	var wg sync.WaitGroup
	probe := func(r CheckResult) {
		defer wg.Done()
		for range rounds {
			b.ObserveCheck(r)
		}
	}
	wg.Add(3)
	go probe(CheckResult{Outcome: ReasonCheckPassed, Code: 200})
	go probe(CheckResult{Outcome: ReasonConnectionRefused})
	go probe(CheckResult{Outcome: ReasonCheckPassed, Code: 200})
	wg.Add(1)
	go func() { // an operator
		defer wg.Done()
		for range rounds / 10 {
			p.Drain(b.Address())
			runtime.Gosched()
			p.Undrain(b.Address())
		}
	}()
	wg.Add(1)
	go func() { // failing requests: passive ejections and drains ending
		defer wg.Done()
		for range rounds {
			b.inFlight.Add(1)
			b.Release(RequestServerError, 0)
		}
	}()
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	if len(got) < rounds/10 {
		t.Fatalf("only %d transitions: the test did not race", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i].From != got[i-1].To {
			t.Fatalf("transition %d of %d out of order: %s -> %s (%s) after %s -> %s (%s)", i, len(got),
				got[i].From, got[i].To, got[i].Reason, got[i-1].From, got[i-1].To, got[i-1].Reason)
		}
	}
	if last := got[len(got)-1]; last.To != b.State() {
		t.Fatalf("last transition seen ends in %s, the backend is %s", last.To, b.State())
	}
}

// TestOnTransitionMayCallThePool: a hook that changes the pool's state
// itself (here: drains a backend that became UNHEALTHY) neither deadlocks
// nor loses its own transitions, which follow the one that caused them.
func TestOnTransitionMayCallThePool(t *testing.T) {
	var (
		mu  sync.Mutex
		got []Transition
	)
	var p *Pool
	p = New(Options{Name: "web", Policy: &rrPolicy{}, Thresholds: Thresholds{Healthy: 1, Unhealthy: 1},
		OnTransition: func(t Transition) {
			mu.Lock()
			got = append(got, t)
			mu.Unlock()
			if t.To == StateUnhealthy {
				p.Drain(t.Backend)
			}
		}})
	t.Cleanup(p.Close)
	b, _, _ := p.Add("127.0.0.1:1", 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		pass(b)
		fail(b)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a hook that calls the pool deadlocked")
	}
	mu.Lock()
	defer mu.Unlock()
	want := []struct {
		to     State
		reason Reason
	}{
		{StateHealthy, ReasonInitialCheck},
		{StateUnhealthy, ReasonConnectionRefused},
		{StateDraining, ReasonAdminDrain},
		{StateDrained, ReasonDrainComplete},
	}
	if len(got) != len(want) {
		t.Fatalf("transitions %+v", got)
	}
	for i, w := range want {
		if got[i].To != w.to || got[i].Reason != w.reason {
			t.Fatalf("transition %d: %s (%s), want %s (%s)", i, got[i].To, got[i].Reason, w.to, w.reason)
		}
	}
}
