package pool

import (
	"fmt"
	"testing"
	"time"
)

// failRequests ends n requests on b with outcome o.
func failRequests(b *Backend, n int, o RequestOutcome) {
	for i := 0; i < n; i++ {
		b.inFlight.Add(1)
		b.pool.inFlight.Add(1)
		b.Release(o, time.Millisecond)
	}
}

// TestEjectionCapCountsOutliersOnly is the chaos run of issue 18 in a
// pool of 5 (max_ejected_percent 50: 2 may be held out): one backend down
// by its checks, one hung (silent, and its checks time out), one ejected;
// a fourth starts answering 500 to everything. The hung one is down by
// its checks as well, so only the ejected one counts and the fourth is
// ejected after consecutive_failures. Before, the cap counted the hung
// one and refused, and the failing backend kept its share.
func TestEjectionCapCountsOutliersOnly(t *testing.T) {
	for _, tt := range []struct {
		name       string
		hungChecks int // failed checks of the silent backend
		wantEject  bool
	}{
		{"silent backend confirmed down by its checks", 2, true},
		{"silent backend whose checks have not failed yet", 1, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := Resilience{Passive: Passive{Enabled: true, ConsecutiveFailures: 5, BaseEjection: time.Hour, MaxEjectedPercent: 50}}
			p, bs, _ := newTestPoolWith(t, Options{Resilience: res}, "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", "127.0.0.1:4", "127.0.0.1:5")
			healthyAll(bs)
			down, hung, ejected, failing := bs[0], bs[1], bs[2], bs[3]
			fail(down)
			fail(down)
			if st, _ := findStatus(p, down.Address()); down.State() != StateUnhealthy || st.Reason != ReasonConnectionRefused {
				t.Fatalf("down: %s %s", down.State(), st.Reason)
			}
			p.silence(hung, time.Second, 25*time.Millisecond)
			for i := 0; i < tt.hungChecks; i++ {
				fail(hung)
			}
			if st, _ := findStatus(p, hung.Address()); st.Reason != ReasonSilent {
				t.Fatalf("hung: %s, want still silent (the first answer brings it back)", st.Reason)
			}
			failRequests(ejected, 5, RequestServerError)
			if st, _ := findStatus(p, ejected.Address()); st.Reason != ReasonPassiveEjection {
				t.Fatalf("ejected: %s", st.Reason)
			}

			failRequests(failing, 5, RequestServerError)
			st, _ := findStatus(p, failing.Address())
			if got := st.Reason == ReasonPassiveEjection; got != tt.wantEject {
				t.Fatalf("failing backend: %s %s, want ejected %v", failing.State(), st.Reason, tt.wantEject)
			}
			// Ejected or not, the LB knows its answers fail: the proxy
			// retries them (Failing) while the ejection is refused.
			if !tt.wantEject && !failing.Failing() {
				t.Errorf("a backend whose ejection was refused is not Failing")
			}
			if tt.wantEject && !failing.Failing() {
				t.Errorf("an ejected backend is not Failing (panic routing may still send it requests)")
			}
			if !tt.wantEject {
				// Its checks confirm the hung one is down: the refusal is
				// forgotten and the next failure ejects.
				fail(hung)
				failRequests(failing, 1, RequestServerError)
				if st, _ := findStatus(p, failing.Address()); st.Reason != ReasonPassiveEjection {
					t.Fatalf("failing backend not ejected once the hung one's checks failed: %s", st.Reason)
				}
			}
			// The cap still holds: a fifth backend failing is refused
			// (two outliers held out of five).
			last := bs[4]
			failRequests(last, 7, RequestServerError)
			if last.State() != StateHealthy || !last.Failing() {
				t.Errorf("last backend: %s, Failing %v; want kept by the cap and Failing", last.State(), last.Failing())
			}
			// One answer ends the streak.
			failRequests(last, 1, RequestOK)
			if last.Failing() {
				t.Errorf("Failing after an answer")
			}
		})
	}
}

// TestEjectionCapIgnoresRemovedBackends: backends a reload is removing
// (draining, removed_from_config) are not part of the pool the cap is a
// share of.
func TestEjectionCapIgnoresRemovedBackends(t *testing.T) {
	res := Resilience{Passive: Passive{Enabled: true, ConsecutiveFailures: 1, BaseEjection: time.Hour, MaxEjectedPercent: 50}}
	var addrs []string
	for i := 1; i <= 6; i++ {
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", i))
	}
	p, bs, _ := newTestPoolWith(t, Options{Resilience: res, DeregistrationDelay: time.Hour}, addrs...)
	healthyAll(bs)
	// Four of six leave by reload: two remain, and 50% of two is one.
	for _, b := range bs[2:] {
		b.inFlight.Add(1) // keep them draining
		p.inFlight.Add(1)
		if err := p.Remove(b.Address()); err != nil {
			t.Fatal(err)
		}
	}
	failRequests(bs[0], 1, RequestServerError)
	failRequests(bs[1], 1, RequestServerError)
	if bs[0].State() != StateUnhealthy || bs[1].State() != StateHealthy {
		t.Fatalf("states %s %s: want one of the two remaining ejected, the other kept", bs[0].State(), bs[1].State())
	}
	for _, b := range bs[2:] {
		b.Release(RequestOK, 0)
	}
}

// TestFailingBackendShedsItsShare: a backend whose ejection is refused
// (max_ejected_percent 0 here) keeps one in ten of its picks once it is
// Failing; when every backend fails (a pool-wide failure, what the cap is
// for) none moves.
func TestFailingBackendShedsItsShare(t *testing.T) {
	res := Resilience{Passive: Passive{Enabled: true, ConsecutiveFailures: 3, BaseEjection: time.Hour, MaxEjectedPercent: 0}}
	p, bs, _ := newTestPoolWith(t, Options{Resilience: res}, "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", "127.0.0.1:4")
	healthyAll(bs)
	share := func() map[*Backend]int {
		got := map[*Backend]int{}
		for i := 0; i < 4000; i++ {
			b := p.Acquire(nil)
			got[b]++
			b.Release(RequestLocal, 0)
		}
		return got
	}
	failRequests(bs[0], 3, RequestServerError)
	if bs[0].State() != StateHealthy || !bs[0].Failing() {
		t.Fatalf("setup: %s, Failing %v", bs[0].State(), bs[0].Failing())
	}
	got := share()
	if n := got[bs[0]]; n != 100 {
		t.Errorf("the failing backend got %d of 4000 picks, want a tenth of its 1000", n)
	}
	for _, b := range bs {
		failRequests(b, 3, RequestServerError)
	}
	got = share()
	for _, b := range bs {
		if got[b] != 1000 {
			t.Errorf("every backend failing: %s got %d of 4000, want its whole share", b.Address(), got[b])
		}
	}
}

func TestEjectionsDecay(t *testing.T) {
	base := 10 * time.Second
	end := time.Unix(1000, 0)
	for _, tt := range []struct {
		ejections int
		since     time.Duration // from the end of the last ejection
		want      int
	}{
		{3, -time.Second, 3}, // still ejected (an ejection can overlap)
		{3, 9 * time.Second, 3},
		{3, 10 * time.Second, 2},
		{3, 25 * time.Second, 1},
		{3, time.Hour, 0},
		{0, time.Hour, 0},
	} {
		m := machine{ejections: tt.ejections, ejectedUntil: end}
		decayEjections(&m, base, end.Add(tt.since))
		if m.ejections != tt.want {
			t.Errorf("%d ejections, %s after the last: %d, want %d", tt.ejections, tt.since, m.ejections, tt.want)
		}
	}
}

// TestEjectedBackendShedsInPanic: in panic routing an ejected backend is
// routed to again, but it is Failing (held out by its traffic), so it
// keeps one in ten of its picks; a backend down by its checks only keeps
// its whole share (panic routing is for checks that may be wrong).
func TestEjectedBackendShedsInPanic(t *testing.T) {
	res := Resilience{PanicThreshold: 50,
		Passive: Passive{Enabled: true, ConsecutiveFailures: 3, BaseEjection: time.Hour, MaxEjectedPercent: 100}}
	p, bs, _ := newTestPoolWith(t, Options{Resilience: res}, "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", "127.0.0.1:4", "127.0.0.1:5")
	healthyAll(bs)
	failRequests(bs[0], 3, RequestServerError) // ejected
	fail(bs[1])
	fail(bs[1]) // down by their checks: 2 of 5 HEALTHY
	fail(bs[2])
	fail(bs[2])
	if p.Mode() != "panic" || bs[0].State() != StateUnhealthy || bs[1].State() != StateUnhealthy {
		t.Fatalf("setup: mode %s, states %s %s", p.Mode(), bs[0].State(), bs[1].State())
	}
	got := map[*Backend]int{}
	for range 5000 {
		b := p.Acquire(nil)
		got[b]++
		b.Release(RequestLocal, 0)
	}
	if n := got[bs[0]]; n != 100 {
		t.Errorf("the ejected backend got %d of 5000 picks in panic routing, want a tenth of its 1000", n)
	}
	if n := got[bs[1]]; n < 1100 {
		t.Errorf("the backend down by its checks got %d of 5000 picks in panic routing, want its share and more", n)
	}
}
