package pool

import (
	"testing"
	"time"
)

func healthyAll(bs []*Backend) {
	for _, b := range bs {
		pass(b)
	}
}

func TestPassiveEjectionAfterConsecutiveFailures(t *testing.T) {
	res := Resilience{Passive: Passive{Enabled: true, ConsecutiveFailures: 3, ConsecutiveTimeouts: 2,
		BaseEjection: time.Hour, MaxEjectedPercent: 50}}
	p, bs, rec := newTestPoolWith(t, Options{Resilience: res}, "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3")
	healthyAll(bs)
	b := bs[0]
	fail := func(o RequestOutcome) {
		b.inFlight.Add(1)
		b.Release(o, time.Millisecond)
	}
	fail(RequestServerError)
	fail(RequestTransportError)
	fail(RequestOK) // an answer resets the count
	fail(RequestServerError)
	fail(RequestLocal) // never held against the backend
	fail(RequestServerError)
	if b.State() != StateHealthy {
		t.Fatalf("ejected before 3 failures in a row: %s", b.State())
	}
	fail(RequestTransportError)
	last := rec.list()[len(rec.list())-1]
	if b.State() != StateUnhealthy || last.Reason != ReasonPassiveEjection || last.Detail != "3 failures in a row; ejected for 1h0m0s" {
		t.Fatalf("after 3 failures: %s %+v", b.State(), last)
	}
	// Checks pass, but the ejection time has not passed.
	pass(b)
	pass(b)
	if b.State() != StateUnhealthy {
		t.Fatal("a passing check ended the ejection early")
	}
	// Timeouts eject sooner; the 50% cap allows one of three.
	c := bs[1]
	c.inFlight.Add(2)
	c.Release(RequestTimeout, 0)
	c.Release(RequestTimeout, 0)
	if c.State() != StateHealthy {
		t.Fatalf("max_ejected_percent exceeded: %s", c.State())
	}
	if p.Eligible() != 2 {
		t.Fatalf("eligible %d", p.Eligible())
	}
}

func TestPassiveEjectionEndsWhenTimePassedAndCheckPasses(t *testing.T) {
	res := Resilience{Passive: Passive{Enabled: true, ConsecutiveFailures: 1, BaseEjection: 20 * time.Millisecond, MaxEjectedPercent: 50}}
	_, bs, _ := newTestPoolWith(t, Options{Resilience: res}, "127.0.0.1:1", "127.0.0.1:2")
	healthyAll(bs)
	bs[0].inFlight.Add(1)
	bs[0].Release(RequestServerError, 0)
	if bs[0].State() != StateUnhealthy {
		t.Fatal("not ejected")
	}
	time.Sleep(25 * time.Millisecond)
	pass(bs[0])
	if bs[0].State() != StateHealthy {
		t.Fatalf("not back after the ejection time and a pass: %s", bs[0].State())
	}
}

func TestActiveChecksConfirmAnEjection(t *testing.T) {
	res := Resilience{Passive: Passive{Enabled: true, ConsecutiveFailures: 1, BaseEjection: time.Hour, MaxEjectedPercent: 50}}
	_, bs, rec := newTestPoolWith(t, Options{Resilience: res}, "127.0.0.1:1", "127.0.0.1:2")
	healthyAll(bs)
	bs[0].inFlight.Add(1)
	bs[0].Release(RequestTransportError, 0)
	fail(bs[0])
	fail(bs[0])
	last := rec.list()[len(rec.list())-1]
	if last.From != StateUnhealthy || last.To != StateUnhealthy || last.Reason != ReasonConnectionRefused {
		t.Fatalf("checks did not take over the reason: %+v", last)
	}
	pass(bs[0])
	pass(bs[0])
	if bs[0].State() != StateHealthy {
		t.Fatal("confirmed-down backend did not come back through healthy_threshold")
	}
}

func TestSilentBackendSkippedUntilItAnswers(t *testing.T) {
	res := Resilience{Silent: Silent{Enabled: true, After: 30 * time.Millisecond}, Passive: Passive{MaxEjectedPercent: 50}}
	p, bs, rec := newTestPoolWith(t, Options{Resilience: res}, "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3")
	healthyAll(bs)
	// Hold one request on each backend; b0 never answers, the others do.
	var held [3]*Backend
	for i := range held {
		held[i] = p.Acquire(nil)
	}
	var silent *Backend
	deadline := time.Now().Add(10 * time.Second)
	for silent == nil {
		for _, b := range held {
			if b != held[0] {
				b.inFlight.Add(1)
				b.Release(RequestOK, time.Millisecond)
			}
		}
		for _, b := range bs {
			if b.State() == StateUnhealthy {
				silent = b
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("silent backend never skipped")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if silent != held[0] {
		t.Fatalf("skipped %s, want the silent one %s", silent.Address(), held[0].Address())
	}
	st, _ := findStatus(p, silent.Address())
	if st.Reason != ReasonSilent {
		t.Fatalf("reason %s", st.Reason)
	}
	for i := 0; i < 20; i++ {
		b := p.Acquire(nil)
		if b == silent {
			t.Fatal("a silent backend got a new request")
		}
		b.Release(RequestOK, 0)
	}
	// Its old request is answered at last: back at once.
	silent.Release(RequestOK, time.Second)
	if silent.State() != StateHealthy {
		t.Fatalf("state %s after answering", silent.State())
	}
	last := rec.list()[len(rec.list())-1]
	if last.Reason != ReasonAnswered {
		t.Fatalf("came back with %+v", last)
	}
	for _, b := range held[1:] {
		b.Release(RequestOK, 0)
	}
}

func findStatus(p *Pool, address string) (BackendStatus, bool) {
	for _, b := range p.Status().Backends {
		if b.Address == address {
			return b, true
		}
	}
	return BackendStatus{}, false
}

func TestRoutingModes(t *testing.T) {
	tests := []struct {
		name      string
		res       Resilience
		unhealthy int // of 4
		wantMode  string
		wantSet   int
	}{
		{"normal", Resilience{PanicThreshold: 50}, 1, "normal", 3},
		{"panic under the threshold", Resilience{PanicThreshold: 50}, 3, "panic", 4},
		{"no panic at the threshold", Resilience{PanicThreshold: 50}, 2, "normal", 2},
		{"fail open", Resilience{}, 4, "fail_open", 4},
		{"fail closed", Resilience{FailClosed: true}, 4, "fail_closed", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, bs, _ := newTestPoolWith(t, Options{Resilience: tt.res}, "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", "127.0.0.1:4", "127.0.0.1:5")
			healthyAll(bs[:4])
			drain(bs[4]) // DRAINED: never selected in any mode
			for _, b := range bs[:tt.unhealthy] {
				fail(b)
				fail(b)
			}
			if p.Mode() != tt.wantMode || p.Eligible() != tt.wantSet {
				t.Fatalf("mode %s eligible %d, want %s %d", p.Mode(), p.Eligible(), tt.wantMode, tt.wantSet)
			}
			for i := 0; i < 20; i++ {
				b := p.Acquire(nil)
				if tt.wantSet == 0 {
					if b != nil {
						t.Fatal("fail_closed routed a request")
					}
					return
				}
				if b == bs[4] {
					t.Fatal("a drained backend got a request")
				}
				b.Release(RequestOK, 0)
			}
		})
	}
}

func TestSlowStartRampsTheShare(t *testing.T) {
	window := 400 * time.Millisecond
	p, bs, _ := newTestPoolWith(t, Options{Resilience: Resilience{SlowStart: window}}, "127.0.0.1:1", "127.0.0.1:2")
	pass(bs[0])
	pass(bs[1]) // joins while bs[0] serves: ramps
	start := time.Now()
	// Share of the new backend relative to its fair share (1/2) in the
	// first and the last fifth of the window.
	share := func(from, to time.Duration) float64 {
		for time.Since(start) < from {
			time.Sleep(time.Millisecond)
		}
		n, got := 0, 0
		for time.Since(start) < to {
			b := p.Acquire(nil)
			if b == bs[1] {
				got++
			}
			n++
			b.Release(RequestOK, 0)
		}
		return 2 * float64(got) / float64(n)
	}
	early := share(0, window/5)
	late := share(window*4/5, window)
	if early > 0.35 || late < 0.75 {
		t.Fatalf("relative share early %.2f (want about 0.1-0.28), late %.2f (want about 0.82-1)", early, late)
	}
	time.Sleep(window / 4)
	if after := share(window+window/4, window+window/2); after < 0.9 {
		t.Fatalf("share after the window %.2f", after)
	}
}

func TestLatencyBuckets(t *testing.T) {
	prev := -1
	for us := uint64(0); us < 1<<20; us = us*5/4 + 1 {
		i := bucketOf(us)
		if i < prev {
			t.Fatalf("bucketOf not monotonic at %dµs", us)
		}
		if up := bucketUpper(i); up < time.Duration(us)*time.Microsecond || up > time.Duration(us)*time.Microsecond*5/4+4*time.Microsecond {
			t.Fatalf("%dµs in bucket %d with upper %s", us, i, up)
		}
		prev = i
	}
	var h latencyHistogram
	var prevCounts [latencyBuckets]uint64
	for i := 0; i < 99; i++ {
		h.record(time.Millisecond)
	}
	h.record(100 * time.Millisecond)
	h.record(100 * time.Millisecond)
	if q, n := h.quantileSince(&prevCounts, 0.99, 102); q != 0 || n != 101 {
		t.Fatalf("with too few samples: p99 %s of %d samples, want 0 of 101", q, n)
	}
	q, n := h.quantileSince(&prevCounts, 0.99, 20)
	if n != 101 || q < 100*time.Millisecond || q > 125*time.Millisecond {
		t.Fatalf("p99 %s of %d samples (kept from the call with too few)", q, n)
	}
	if _, n := h.quantileSince(&prevCounts, 0.99, 1); n != 0 {
		t.Fatalf("delta after reading: %d", n)
	}
}
