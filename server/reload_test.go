package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/demo"
	"github.com/lbtrust/lb/pool"
)

// poolBlock renders a pool with the given backends ("addr" or
// "addr weight").
func poolBlock(name, interval string, backends ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "pool %q {\n  deregistration_delay = \"30s\"\n  health_check {\n    interval = %q\n    timeout = \"50ms\"\n  }\n", name, interval)
	for _, be := range backends {
		addr, weight, _ := strings.Cut(be, " ")
		if weight == "" {
			weight = "1"
		}
		fmt.Fprintf(&b, "  backend %q { weight = %s }\n", addr, weight)
	}
	b.WriteString("}\n")
	return b.String()
}

// runLB starts an LB for src and returns it with a client and its base URL.
func runLB(t *testing.T, src string) (*LB, *http.Client, string) {
	t.Helper()
	lb := startLB(t, mustParse(t, src), Options{Version: "test"})
	c := &http.Client{Timeout: 10 * time.Second}
	t.Cleanup(c.CloseIdleConnections)
	return lb, c, "http://" + lb.ListenerAddr("public").String()
}

func stateOf(lb *LB, poolName, address string) (pool.BackendStatus, bool) {
	for _, p := range lb.Pools() {
		if p.Name() != poolName {
			continue
		}
		for _, b := range p.Status().Backends {
			if b.Address == address {
				return b, true
			}
		}
	}
	return pool.BackendStatus{}, false
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true within 15s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func healthy(lb *LB, poolName, address string) func() bool {
	return func() bool {
		b, ok := stateOf(lb, poolName, address)
		return ok && b.State == pool.StateHealthy
	}
}

func fetch(c *http.Client, url string) (int, string) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get(demo.HeaderBackend)
}

const listenerBlock = `
listener "public" {
  address = "127.0.0.1:0"
  pool    = "web"
%s}
`

func TestReloadAppliesADiffAndKeepsState(t *testing.T) {
	b1, b2, b3 := startBackend(t, "b1"), startBackend(t, "b2"), startBackend(t, "b3")
	src := fmt.Sprintf(listenerBlock, "") + poolBlock("web", "100ms", b1.Addr(), b2.Addr())
	lb, c, base := runLB(t, src)
	waitFor(t, "b1 healthy", healthy(lb, "web", b1.Addr()))
	waitFor(t, "b2 healthy", healthy(lb, "web", b2.Addr()))
	for i := 0; i < 10; i++ {
		if code, _ := fetch(c, base+"/"); code != 200 {
			t.Fatalf("GET: %d", code)
		}
	}
	before, _ := stateOf(lb, "web", b1.Addr())

	// b1 stays with a new weight, b2 goes, b3 comes, checks get a new
	// interval, and a new pool with a route appears.
	next := fmt.Sprintf(listenerBlock, "  route {\n    path_prefix = \"/api/\"\n    pool = \"api\"\n  }\n") +
		poolBlock("web", "150ms", b1.Addr()+" 3", b3.Addr()) + poolBlock("api", "100ms", b2.Addr())
	if err := lb.Reload(mustParse(t, next)); err != nil {
		t.Fatal(err)
	}
	after, _ := stateOf(lb, "web", b1.Addr())
	if after.State != pool.StateHealthy || after.Requests < before.Requests || after.Weight != 3 || after.Reason != before.Reason {
		t.Fatalf("b1 after reload %+v, before %+v", after, before)
	}
	if b, ok := stateOf(lb, "web", b3.Addr()); !ok || (b.State != pool.StateInitial && b.State != pool.StateHealthy) {
		t.Fatalf("b3 after reload: %+v %v", b, ok)
	}
	waitFor(t, "b3 healthy", healthy(lb, "web", b3.Addr()))
	waitFor(t, "b2 gone from web", func() bool { _, ok := stateOf(lb, "web", b2.Addr()); return !ok })
	waitFor(t, "b2 healthy in api", healthy(lb, "api", b2.Addr()))
	if code, backend := fetch(c, base+"/api/x"); code != 200 || backend != "b2" {
		t.Fatalf("GET /api/x after reload: %d from %q", code, backend)
	}
	for i := 0; i < 20; i++ {
		if code, backend := fetch(c, base+"/"); code != 200 || backend == "b2" {
			t.Fatalf("GET / after reload: %d from %q", code, backend)
		}
	}
	st := lb.LastReload()
	if !st.OK || len(st.Changes) == 0 {
		t.Fatalf("last reload %+v", st)
	}
	joined := strings.Join(st.Changes, "\n")
	for _, want := range []string{"pool api added", "weight 3", "health check restarted", "removed; draining", b3.Addr() + " added"} {
		if !strings.Contains(joined, want) {
			t.Errorf("changes lack %q:\n%s", want, joined)
		}
	}
}

func TestReloadRemovalWaitsForInFlightRequests(t *testing.T) {
	b1, b2 := startBackend(t, "b1"), startBackend(t, "b2")
	lb, c, base := runLB(t, fmt.Sprintf(listenerBlock, "")+poolBlock("web", "100ms", b1.Addr(), b2.Addr()))
	waitFor(t, "b1 healthy", healthy(lb, "web", b1.Addr()))
	waitFor(t, "b2 healthy", healthy(lb, "web", b2.Addr()))
	// Hold requests on both backends.
	done := make(chan int, 4)
	for i := 0; i < 4; i++ {
		go func() { code, _ := fetch(c, base+"/?sleep=700ms"); done <- code }()
	}
	waitFor(t, "b2 busy", func() bool { b, _ := stateOf(lb, "web", b2.Addr()); return b.InFlight > 0 })
	if err := lb.Reload(mustParse(t, fmt.Sprintf(listenerBlock, "")+poolBlock("web", "100ms", b1.Addr()))); err != nil {
		t.Fatal(err)
	}
	b, ok := stateOf(lb, "web", b2.Addr())
	if !ok || b.State != pool.StateDraining || b.Reason != pool.ReasonRemovedFromConfig || b.HeldBy != pool.ReasonRemovedFromConfig {
		t.Fatalf("removed backend with requests in flight: %+v %v", b, ok)
	}
	for i := 0; i < 4; i++ {
		if code := <-done; code != 200 {
			t.Fatalf("in-flight request on a removed backend: %d", code)
		}
	}
	waitFor(t, "b2 forgotten", func() bool { _, ok := stateOf(lb, "web", b2.Addr()); return !ok })
}

func TestReloadRefusesWhatCannotChangeLive(t *testing.T) {
	b1 := startBackend(t, "b1")
	lb, _, _ := runLB(t, fmt.Sprintf(listenerBlock, "")+poolBlock("web", "100ms", b1.Addr()))
	next := strings.Replace(fmt.Sprintf(listenerBlock, "")+poolBlock("web", "100ms", b1.Addr()+" 5"),
		`"127.0.0.1:0"`, `"127.0.0.1:1"`, 1)
	err := lb.Reload(mustParse(t, next))
	if !errors.Is(err, ErrReloadRefused) || !strings.Contains(err.Error(), `listener "public": address`) {
		t.Fatalf("Reload = %v", err)
	}
	if b, _ := stateOf(lb, "web", b1.Addr()); b.Weight != 1 {
		t.Fatalf("a refused reload changed the weight to %d", b.Weight)
	}
	if st := lb.LastReload(); st.OK || !strings.Contains(st.Error, "needs a restart") {
		t.Fatalf("last reload %+v", st)
	}
}

func TestReloadFileWithDiagnosticsChangesNothing(t *testing.T) {
	b1 := startBackend(t, "b1")
	path := filepath.Join(t.TempDir(), "lb.hcl")
	good := fmt.Sprintf(listenerBlock, "") + poolBlock("web", "100ms", b1.Addr())
	if err := os.WriteFile(path, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := config.Load(path)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	lb := startLB(t, cfg, Options{ConfigPath: path})
	waitFor(t, "b1 healthy", healthy(lb, "web", b1.Addr()))
	broken := strings.Replace(good, "deregistration_delay", "deregistration_dely", 1)
	if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := lb.ReloadFile(); !errors.Is(err, ErrReloadRefused) {
		t.Fatalf("ReloadFile = %v", err)
	}
	st := lb.LastReload()
	if st.OK || len(st.Diagnostics) != 1 || !strings.Contains(st.Diagnostics[0], "lb.hcl:7,3-") {
		t.Fatalf("last reload %+v", st)
	}
	if b, ok := stateOf(lb, "web", b1.Addr()); !ok || b.State != pool.StateHealthy {
		t.Fatalf("backend after a refused reload: %+v", b)
	}
}

// TestReloadTrustedProxiesLive: trusted_proxies changes on reload without
// a restart, both ways.
func TestReloadTrustedProxiesLive(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen-XFF", r.Header.Get("X-Forwarded-For"))
	}))
	t.Cleanup(be.Close)
	addr := strings.TrimPrefix(be.URL, "http://")
	plain := fmt.Sprintf(listenerBlock, "") + poolBlock("web", "100ms", addr)
	trusting := fmt.Sprintf(listenerBlock, "  trusted_proxies = [\"127.0.0.1\"]\n") + poolBlock("web", "100ms", addr)
	lb, c, base := runLB(t, plain)
	waitFor(t, "backend healthy", healthy(lb, "web", addr))
	seen := func() string {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/", nil)
		req.Header.Set("X-Forwarded-For", "203.0.113.7")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.Header.Get("X-Seen-XFF")
	}
	if got := seen(); got != "127.0.0.1" {
		t.Fatalf("untrusted: backend saw X-Forwarded-For %q", got)
	}
	if err := lb.Reload(mustParse(t, trusting)); err != nil {
		t.Fatal(err)
	}
	if got := seen(); got != "203.0.113.7, 127.0.0.1" {
		t.Fatalf("trusted after reload: backend saw X-Forwarded-For %q", got)
	}
	if st := lb.LastReload(); !strings.Contains(strings.Join(st.Changes, "\n"), "trusted_proxies changed") {
		t.Errorf("reload changes %v lack trusted_proxies", st.Changes)
	}
	if err := lb.Reload(mustParse(t, plain)); err != nil {
		t.Fatal(err)
	}
	if got := seen(); got != "127.0.0.1" {
		t.Fatalf("untrusted again: backend saw X-Forwarded-For %q", got)
	}
}
