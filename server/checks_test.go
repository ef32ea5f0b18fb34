package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbtrust/lb/balancer"
	"github.com/lbtrust/lb/events"
	"github.com/lbtrust/lb/healthcheck"
	"github.com/lbtrust/lb/internal/grpchealthtest"
	"github.com/lbtrust/lb/metrics"
	"github.com/lbtrust/lb/pool"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// TestCheckReasonsKeepTheirNames: every outcome a probe can report reaches
// the pool as the reason spelled the same, so logs, /status, /events and
// metric labels read as they always did; an outcome the pool does not know
// is a check_error.
func TestCheckReasonsKeepTheirNames(t *testing.T) {
	for _, o := range healthcheck.Outcomes() {
		if got := checkReason(o); string(got) != string(o) {
			t.Errorf("checkReason(%q) = %q, want the pool reason spelled the same", o, got)
		}
	}
	if got := checkReason("no_such_outcome"); got != pool.ReasonCheckError {
		t.Errorf("unknown outcome: got %q, want check_error", got)
	}
}

// TestCheckResultKeepsEveryField: the adapted result carries the probe's
// code, error, latency, start and the detail the checker rendered.
func TestCheckResultKeepsEveryField(t *testing.T) {
	at := time.Unix(1700000000, 0)
	err := errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
	got := checkResult(healthcheck.Result{
		Outcome: healthcheck.OutcomeConnectionRefused, Err: err, Latency: 3 * time.Millisecond, At: at,
	})
	want := pool.CheckResult{
		Outcome: pool.ReasonConnectionRefused, Detail: err.Error(), Err: err, Latency: 3 * time.Millisecond, At: at,
	}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	got = checkResult(healthcheck.Result{Outcome: healthcheck.OutcomeStatusMismatch, Code: 500, Status: "500"})
	if got.Outcome != pool.ReasonStatusMismatch || got.Code != 500 || got.Detail != "500" {
		t.Fatalf("status mismatch: got %+v, want status_mismatch, code 500, detail 500", got)
	}
}

// reporterFunc adapts a function to healthcheck.Reporter.
type reporterFunc func(healthcheck.Result)

func (f reporterFunc) ObserveCheck(r healthcheck.Result) { f(r) }

// TestGRPCCheckDrivesPoolTransitions runs a gRPC checker against a flipping
// grpc-go health server, through the server's checkReporter, into a real
// pool, and asserts the state machine's transitions, reasons and details:
// INITIAL->HEALTHY (initial_check); NOT_SERVING: HEALTHY->DRAINING
// (backend_draining with detail NOT_SERVING, the status by name; at once,
// no threshold), then DRAINED as nothing is in
// flight; SERVING x healthy_threshold: back to HEALTHY (check_passed);
// killed: HEALTHY->UNHEALTHY after unhealthy_threshold refusals
// (connection_refused); restarted: HEALTHY again after healthy_threshold
// passes.
func TestGRPCCheckDrivesPoolTransitions(t *testing.T) {
	const service = "lb.test.Echo"
	b := grpchealthtest.Start(t, service)
	policy, err := balancer.New(balancer.RoundRobin)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var trans []pool.Transition
	p := pool.New(pool.Options{
		Name:       "grpc",
		Policy:     policy,
		Thresholds: pool.Thresholds{Healthy: 2, Unhealthy: 2},
		OnTransition: func(tr pool.Transition) {
			mu.Lock()
			trans = append(trans, tr)
			mu.Unlock()
		},
	})
	t.Cleanup(p.Close)
	backend, _, err := p.Add(b.Addr(), 1)
	if err != nil {
		t.Fatal(err)
	}
	// Count the passing probes, to check the thresholds.
	var passes atomic.Int64
	to := checkReporter{backend: backend, metrics: metrics.New(func() []*pool.Pool { return nil }).Checks("grpc")}
	rep := reporterFunc(func(r healthcheck.Result) {
		if r.Passed() {
			passes.Add(1)
		}
		to.ObserveCheck(r)
	})
	c, err := healthcheck.New(healthcheck.Spec{
		Type: healthcheck.TypeGRPC, GRPCService: service, Interval: 200 * time.Millisecond, Timeout: 150 * time.Millisecond,
	}, b.Addr(), rep, nil)
	if err != nil {
		t.Fatal(err)
	}
	var g healthcheck.Group
	t.Cleanup(g.Stop)
	g.Start(c)

	type step struct {
		from, to pool.State
		reason   pool.Reason
		detail   string
	}
	seen := 0
	expect := func(want ...step) {
		t.Helper()
		waitFor(t, "transitions", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(trans) >= seen+len(want)
		})
		mu.Lock()
		got := append([]pool.Transition(nil), trans[seen:seen+len(want)]...)
		mu.Unlock()
		for i, w := range want {
			g := got[i]
			if g.From != w.from || g.To != w.to || g.Reason != w.reason || g.Detail != w.detail {
				t.Fatalf("transition %d: got %s->%s %s %q, want %s->%s %s %q",
					seen+i, g.From, g.To, g.Reason, g.Detail, w.from, w.to, w.reason, w.detail)
			}
		}
		seen += len(want)
	}

	expect(step{pool.StateInitial, pool.StateHealthy, pool.ReasonInitialCheck, ""})
	if p.Eligible() != 1 {
		t.Fatalf("HEALTHY backend not eligible")
	}

	b.Health.SetServingStatus(service, healthpb.HealthCheckResponse_NOT_SERVING)
	expect(
		step{pool.StateHealthy, pool.StateDraining, pool.ReasonBackendDraining, "NOT_SERVING"},
		step{pool.StateDraining, pool.StateDrained, pool.ReasonDrainComplete, ""},
	)
	if p.Eligible() != 0 {
		t.Fatalf("drained backend still eligible")
	}

	mark := passes.Load()
	b.Health.SetServingStatus(service, healthpb.HealthCheckResponse_SERVING)
	expect(step{pool.StateDrained, pool.StateHealthy, pool.ReasonCheckPassed, ""})
	if n := passes.Load() - mark; n < 2 {
		t.Fatalf("back after %d passing probes, want healthy_threshold = 2", n)
	}

	b.Stop()
	mu.Lock()
	before := len(trans)
	mu.Unlock()
	waitFor(t, "the backend to leave HEALTHY", func() bool { return backend.State() != pool.StateHealthy })
	mu.Lock()
	tr := trans[before]
	mu.Unlock()
	if tr.From != pool.StateHealthy || tr.To != pool.StateUnhealthy || tr.Reason != pool.ReasonConnectionRefused ||
		!strings.Contains(tr.Detail, "connection refused") {
		t.Fatalf("got %s->%s %s %q, want healthy->unhealthy connection_refused", tr.From, tr.To, tr.Reason, tr.Detail)
	}
	seen = before + 1

	b.Start()
	expect(step{pool.StateUnhealthy, pool.StateHealthy, pool.ReasonCheckPassed, ""})
}

// TestGRPCNotServingNamedEverywhere runs a whole LB whose pool is checked
// over gRPC on a separate health port (a real grpc-go health server on
// 127.0.0.1) in front of a demo backend. A request held in flight keeps
// the backend DRAINING after its health server says NOT_SERVING, so the
// transition can be read where operators read it: /status, /events and
// the "backend state changed" log line all say backend_draining with
// detail NOT_SERVING, the status by name.
func TestGRPCNotServingNamedEverywhere(t *testing.T) {
	const service = "lb.test.Web"
	web := startBackend(t, "web1")
	hc := grpchealthtest.Start(t, service)
	_, hcPort, _ := net.SplitHostPort(hc.Addr())
	src := "admin {\n  address = \"127.0.0.1:0\"\n}\n" + fmt.Sprintf(listenerBlock, "") + fmt.Sprintf(`pool "web" {
  deregistration_delay = "30s"
  health_check {
    type         = "grpc"
    grpc_service = %q
    port         = %s
    interval     = "200ms"
    timeout      = "150ms"
  }
  backend %q {}
}
`, service, hcPort, web.Addr())
	lb, _, logs := runFromFile(t, src)
	waitFor(t, "web1 healthy", healthy(lb, "web", web.Addr()))

	// One request in flight for a few seconds: the drain waits for it.
	c := &http.Client{Timeout: 30 * time.Second}
	t.Cleanup(c.CloseIdleConnections)
	answered := make(chan int, 1)
	go func() {
		code, _ := fetch(c, "http://"+lb.ListenerAddr("public").String()+"/held?sleep=3s")
		answered <- code
	}()
	waitFor(t, "the request in flight", func() bool { return statusOf(t, lb, web.Addr()).InFlight == 1 })

	hc.Health.SetServingStatus(service, healthpb.HealthCheckResponse_NOT_SERVING)
	waitFor(t, "web1 draining", func() bool { return statusOf(t, lb, web.Addr()).State == "draining" })
	if st := statusOf(t, lb, web.Addr()); st.Reason != "backend_draining" || st.Detail != "NOT_SERVING" {
		t.Errorf("/status: reason %q detail %q, want backend_draining NOT_SERVING", st.Reason, st.Detail)
	}
	var drained *events.Event
	for _, e := range eventsOf(t, lb, "?backend="+web.Addr()) {
		if e.Kind == events.KindTransition && e.To == "draining" {
			drained = &e
			break
		}
	}
	if drained == nil || drained.Reason != "backend_draining" || drained.Detail != "NOT_SERVING" {
		t.Errorf("/events: draining transition %+v, want backend_draining NOT_SERVING", drained)
	}
	var logged []map[string]any
	for _, e := range logs.FilterMessage("backend state changed").All() {
		if f := e.ContextMap(); f["to"] == "draining" {
			logged = append(logged, f)
		}
	}
	if len(logged) != 1 || logged[0]["reason"] != "backend_draining" || logged[0]["detail"] != "NOT_SERVING" {
		t.Errorf("log lines for the drain: %v, want one with reason backend_draining, detail NOT_SERVING", logged)
	}

	if code := <-answered; code != http.StatusOK {
		t.Fatalf("the request in flight got %d, want 200: a drain lets it finish", code)
	}
	waitFor(t, "web1 drained", func() bool { return statusOf(t, lb, web.Addr()).State == "drained" })
}
