package admin

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/lbtrust/lb/balancer"
	"github.com/lbtrust/lb/internal/leakcheck"
	"github.com/lbtrust/lb/pool"
)

func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }

// serveAdmin starts h on a loopback port and returns its address.
func serveAdmin(t *testing.T, h *Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(h)
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	// Closing ln too: a Shutdown before Serve registered it would not.
	t.Cleanup(func() { srv.Shutdown(); ln.Close(); <-done })
	return ln.Addr().String()
}

func get(t *testing.T, url string, into any) int {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	code := resp.StatusCode
	if into != nil {
		if err := json.Unmarshal(body, into); err != nil {
			t.Fatalf("%s: %v: %s", url, err, body)
		}
	}
	return code
}

func testPool(t *testing.T) (*pool.Pool, *pool.Backend) {
	t.Helper()
	pol, err := balancer.New("round_robin")
	if err != nil {
		t.Fatal(err)
	}
	p := pool.New(pool.Options{Name: "web", Policy: pol})
	b, _, _ := p.Add("127.0.0.1:9", 1)
	p.Add("127.0.0.1:10", 1)
	return p, b
}

func TestReadyzFollowsPoolsListenersAndShutdown(t *testing.T) {
	p, b := testPool(t)
	bound := true
	h := New(Options{
		Version: "test",
		Pools:   func() []*pool.Pool { return []*pool.Pool{p} },
		Listeners: func() []ListenerState {
			return []ListenerState{{Name: "public", Address: "127.0.0.1:8080", Bound: bound}}
		},
	})
	addr := serveAdmin(t, h)

	var body probeBody
	if code := get(t, "http://"+addr+"/readyz", &body); code != 503 || body.Status != "degraded" ||
		body.Checks["pool:web"].Status != "fail" || body.Version != "test" {
		t.Fatalf("no healthy backend: %d %+v", code, body)
	}
	b.ObserveCheck(pool.CheckResult{Outcome: pool.ReasonCheckPassed, Code: 200})
	body = probeBody{}
	if code := get(t, "http://"+addr+"/readyz", &body); code != 200 || body.Status != "ok" ||
		body.Checks["pool:web"].Detail != "1 of 2 backends healthy" || body.Checks["listener:public"].Status != "ok" {
		t.Fatalf("ready: %d %+v", code, body)
	}
	h.SetShuttingDown()
	body = probeBody{}
	if code := get(t, "http://"+addr+"/readyz", &body); code != 503 || body.Status != "shutting_down" {
		t.Fatalf("shutting down: %d %+v", code, body)
	}
	body = probeBody{}
	if code := get(t, "http://"+addr+"/healthz", &body); code != 200 || body.Status != "shutting_down" {
		t.Fatalf("healthz while shutting down: %d %+v", code, body)
	}
}

func TestReadyzFailsOnUnboundListener(t *testing.T) {
	p, b := testPool(t)
	b.ObserveCheck(pool.CheckResult{Outcome: pool.ReasonCheckPassed, Code: 200})
	h := New(Options{
		Pools:     func() []*pool.Pool { return []*pool.Pool{p} },
		Listeners: func() []ListenerState { return []ListenerState{{Name: "public", Address: "127.0.0.1:1"}} },
	})
	addr := serveAdmin(t, h)
	var body probeBody
	if code := get(t, "http://"+addr+"/readyz", &body); code != 503 || body.Checks["listener:public"].Status != "fail" {
		t.Fatalf("%d %+v", code, body)
	}
}

func TestStatusListsEveryBackendWithStateAndReason(t *testing.T) {
	p, b := testPool(t)
	b.ObserveCheck(pool.CheckResult{Outcome: pool.ReasonCheckPassed, Code: 200, Latency: 3 * time.Millisecond})
	h := New(Options{Pools: func() []*pool.Pool { return []*pool.Pool{p} }})
	addr := serveAdmin(t, h)
	var st struct {
		Pools []struct {
			Name     string `json:"name"`
			Eligible int    `json:"eligible"`
			Backends []struct {
				Address   string `json:"address"`
				State     string `json:"state"`
				Reason    string `json:"reason"`
				LastCheck *struct {
					LatencyMS float64 `json:"latency_ms"`
					Code      int     `json:"code"`
				} `json:"last_check"`
			} `json:"backends"`
		} `json:"pools"`
	}
	if code := get(t, "http://"+addr+"/status", &st); code != 200 {
		t.Fatalf("status %d", code)
	}
	if len(st.Pools) != 1 || st.Pools[0].Eligible != 1 || len(st.Pools[0].Backends) != 2 {
		t.Fatalf("%+v", st)
	}
	b0, b1 := st.Pools[0].Backends[0], st.Pools[0].Backends[1]
	if b0.State != "healthy" || b0.Reason != "initial_check" || b0.LastCheck == nil || b0.LastCheck.LatencyMS != 3 || b0.LastCheck.Code != 200 {
		t.Fatalf("backend 0: %+v", b0)
	}
	if b1.State != "initial" || b1.LastCheck != nil {
		t.Fatalf("backend 1: %+v", b1)
	}
}

func TestUnknownPathAndMethod(t *testing.T) {
	h := New(Options{})
	addr := serveAdmin(t, h)
	if code := get(t, "http://"+addr+"/nope", nil); code != 404 {
		t.Fatalf("unknown path: %d", code)
	}
	if code := statusOf(t, http.MethodDelete, "http://"+addr+"/status"); code != 405 {
		t.Fatalf("DELETE /status: %d", code)
	}
}

// statusOf sends an empty request with method to url and returns the
// answer's status code.
func statusOf(t *testing.T, method, url string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
