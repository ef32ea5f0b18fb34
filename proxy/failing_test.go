package proxy

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbtrust/lb/balancer"
	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
)

// TestFailingBackendRetriedWhenEjectionRefused is issue 18's burst: a pool
// of 5 where one backend is down by its checks and one is passively
// ejected, which is all max_ejected_percent (20% here: one of five)
// allows; a third answers 500 to everything. Its ejection is refused, so
// it stays HEALTHY, but once it has failed consecutive_failures times in a
// row (pool.Backend.Failing) the pool sends nine in ten of its picks to
// another backend, and its 500s to GETs are retried on another backend
// (default retry settings: 5xx is not in "on"). The client sees at most
// the streak before the verdict, not one failure per request it is sent.
func TestFailingBackendRetriedWhenEjectionRefused(t *testing.T) {
	var failed, good atomic.Int64
	serverError := func(n *atomic.Int64) string {
		return startBackend(t, func(ctx *fasthttp.RequestCtx) {
			n.Add(1)
			ctx.SetStatusCode(500)
			ctx.SetBodyString("broken")
		})
	}
	var ejectedHits atomic.Int64
	addrs := []string{
		refusedAddr(t),            // down by its checks
		serverError(&ejectedHits), // ejected
		serverError(&failed),      // answers 500, ejection refused
		okBackend(t, "good", &good),
		okBackend(t, "good", &good),
	}
	pol, err := balancer.New(balancer.RoundRobin)
	if err != nil {
		t.Fatal(err)
	}
	p := pool.New(pool.Options{Name: "web", Policy: pol, Resilience: pool.Resilience{
		Passive: pool.Passive{Enabled: true, ConsecutiveFailures: 5, BaseEjection: time.Hour, MaxEjectedPercent: 20},
	}})
	t.Cleanup(p.Close)
	var bs []*pool.Backend
	for _, a := range addrs {
		b, _, err := p.Add(a, 1)
		if err != nil {
			t.Fatal(err)
		}
		c := NewBackendClient(a, ClientOptions{ConnectTimeout: time.Second, IdleConnTimeout: testIdle})
		b.Attach(c)
		t.Cleanup(c.CloseIdle)
		b.ObserveCheck(pool.CheckResult{Outcome: pool.ReasonCheckPassed})
		bs = append(bs, b)
	}
	for i := 0; i < 3; i++ {
		bs[0].ObserveCheck(pool.CheckResult{Outcome: pool.ReasonConnectionRefused, Detail: "refused"})
	}
	for i := 0; i < 5; i++ {
		if !p.AcquireBackendAt(bs[1], time.Time{}) {
			t.Fatal("could not acquire the backend to eject")
		}
		bs[1].Release(pool.RequestServerError, time.Millisecond)
	}
	if bs[0].State() != pool.StateUnhealthy || bs[1].State() != pool.StateUnhealthy {
		t.Fatalf("setup: states %s %s, want both unhealthy", bs[0].State(), bs[1].State())
	}

	up := &Upstream{Pool: p} // default retry policy: connect_failure, reset
	l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
	const n = 200
	var clientFailures int
	for i := 0; i < n; i++ {
		resp := l.get(t, "x", "/")
		switch {
		case resp.StatusCode() == 200:
		case resp.StatusCode() == 500 && string(resp.Body()) == "broken":
			clientFailures++
		default:
			t.Fatalf("GET %d: %d %q", i, resp.StatusCode(), resp.Body())
		}
	}
	made, refused := retriesOf(p)
	t.Logf("%d GETs: the failing backend answered %d, the client saw %d failures; %d retries made, %d refused",
		n, failed.Load(), clientFailures, made, refused)
	if bs[2].State() != pool.StateHealthy {
		t.Fatalf("the failing backend was ejected (%s): the cap should have refused", bs[2].State())
	}
	if streak := int64(5); failed.Load() <= streak || failed.Load() > streak+n/10 {
		t.Errorf("the failing backend answered %d of %d: want its streak (5) and about a tenth of its share after", failed.Load(), n)
	}
	if clientFailures >= 5 {
		t.Errorf("the client saw %d failures: want fewer than consecutive_failures (5), the rest retried", clientFailures)
	}
	if ejectedHits.Load() != 0 {
		t.Errorf("the ejected backend got %d requests", ejectedHits.Load())
	}

	// A POST is not replayable: the failing backend's 500 stands.
	var posts500 int
	for i := 0; i < 60; i++ {
		if resp := l.post(t, "/", "x"); resp.StatusCode() == 500 {
			posts500++
		}
	}
	if posts500 == 0 {
		t.Errorf("no POST got the failing backend's 500: a POST must not be retried")
	}
	checkReleased(t, p)
}

// TestEjectedBackendRetriedInPanic: with fewer than panic_threshold of the
// pool HEALTHY, panic routing sends requests to UNHEALTHY backends too,
// an ejected one included, which keeps one in ten of its picks (it is
// Failing: shed); its 500s to GETs are retried on another backend, so the
// client sees none.
func TestEjectedBackendRetriedInPanic(t *testing.T) {
	var ok, broken atomic.Int64
	brokenAddr := startBackend(t, func(ctx *fasthttp.RequestCtx) {
		broken.Add(1)
		ctx.SetStatusCode(500)
	})
	addrs := []string{okBackend(t, "a", &ok), okBackend(t, "b", &ok), brokenAddr, okBackend(t, "c", &ok), okBackend(t, "d", &ok)}
	pol, err := balancer.New(balancer.RoundRobin)
	if err != nil {
		t.Fatal(err)
	}
	p := pool.New(pool.Options{Name: "web", Policy: pol, Resilience: pool.Resilience{
		PanicThreshold: 50,
		Passive:        pool.Passive{Enabled: true, ConsecutiveFailures: 5, BaseEjection: time.Hour, MaxEjectedPercent: 50},
	}})
	t.Cleanup(p.Close)
	var bs []*pool.Backend
	for _, a := range addrs {
		b, _, err := p.Add(a, 1)
		if err != nil {
			t.Fatal(err)
		}
		c := NewBackendClient(a, ClientOptions{ConnectTimeout: time.Second, IdleConnTimeout: testIdle})
		b.Attach(c)
		t.Cleanup(c.CloseIdle)
		b.ObserveCheck(pool.CheckResult{Outcome: pool.ReasonCheckPassed})
		bs = append(bs, b)
	}
	for i := 0; i < 5; i++ {
		if !p.AcquireBackendAt(bs[2], time.Time{}) {
			t.Fatal("could not acquire the backend to eject")
		}
		bs[2].Release(pool.RequestServerError, time.Millisecond)
	}
	// Two more down by their checks (they still answer): 2 of 5 HEALTHY.
	for _, b := range bs[:2] {
		for i := 0; i < 3; i++ {
			b.ObserveCheck(pool.CheckResult{Outcome: pool.ReasonTimeout, Detail: "timeout"})
		}
	}
	if p.Mode() != "panic" || bs[2].State() != pool.StateUnhealthy {
		t.Fatalf("setup: mode %s, ejected backend %s", p.Mode(), bs[2].State())
	}
	l := startLB(t, NewHandler("public", Routes{Default: &Upstream{Pool: p}}, nil), ServerOptions{})
	for i := 0; i < 100; i++ {
		if resp := l.get(t, "x", "/"); resp.StatusCode() != 200 {
			t.Fatalf("GET %d: %d: the ejected backend's 500 was not retried", i, resp.StatusCode())
		}
	}
	// Its fifth of the picks, less the nine in ten it sheds (Failing).
	if n := broken.Load(); n < 1 || n > 6 {
		t.Errorf("the ejected backend got %d requests of 100 in panic routing, want about a tenth of its fifth", n)
	}
	checkReleased(t, p)
}
