package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/demo"
	"github.com/lbtrust/lb/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }

func mustParse(t *testing.T, src string) *config.Config {
	t.Helper()
	cfg, diags := config.Parse([]byte(src), "test.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return cfg
}

// startLB starts an LB for cfg with opts; it is shut down at cleanup.
func startLB(tb testing.TB, cfg *config.Config, opts Options) *LB {
	tb.Helper()
	lb, err := New(cfg, opts)
	if err != nil {
		tb.Fatal(err)
	}
	if err := lb.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { lb.Shutdown(context.Background()) })
	return lb
}

func startBackend(t *testing.T, name string) *demo.Backend {
	t.Helper()
	b, err := demo.Start("127.0.0.1:0", name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// TestRoutesAcrossPools runs a whole LB in-process with two pools and a
// route, and checks each request lands in the right pool.
func TestRoutesAcrossPools(t *testing.T) {
	web, api := startBackend(t, "web1"), startBackend(t, "api1")
	cfg := mustParse(t, fmt.Sprintf(`
admin { address = "127.0.0.1:0" }
listener "public" {
  address = "127.0.0.1:0"
  pool    = "web"
  route {
    path_prefix = "/api/"
    pool        = "api"
  }
}
pool "web" {
  health_check {
    interval = "100ms"
    timeout  = "50ms"
  }
  backend %q {}
}
pool "api" {
  health_check {
    interval = "100ms"
    timeout  = "50ms"
  }
  backend %q {}
}
`, web.Addr(), api.Addr()))
	lb := startLB(t, cfg, Options{Version: "test"})
	base := "http://" + lb.ListenerAddr("public").String()
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	get := func(path string) (int, string) { return fetch(c, base+path) }
	waitReady(t, "http://"+lb.AdminAddr().String())
	for _, tc := range []struct{ path, want string }{
		{"/", "web1"}, {"/api/users", "api1"}, {"/apix", "web1"}, {"/api", "web1"},
	} {
		if code, backend := get(tc.path); code != 200 || backend != tc.want {
			t.Errorf("GET %s: %d from %q, want 200 from %s", tc.path, code, backend, tc.want)
		}
	}
}

// TestStartIsAllOrNothing: when one address is taken, Start fails naming
// it and leaves no listener open.
func TestStartIsAllOrNothing(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freeAddr := free.Addr().String()
	free.Close()
	cfg := mustParse(t, fmt.Sprintf(`
listener "a" {
  address = %q
  pool    = "web"
}
listener "b" {
  address = %q
  pool    = "web"
}
pool "web" {
  backend "127.0.0.1:9" {}
}
`, freeAddr, taken.Addr().String()))
	lb, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = lb.Start()
	if err == nil || !strings.Contains(err.Error(), `listener "b"`) {
		t.Fatalf("Start = %v, want an error naming listener b", err)
	}
	ln, err := net.Listen("tcp", freeAddr)
	if err != nil {
		t.Fatalf("listener a left bound after a failed Start: %v", err)
	}
	ln.Close()
	lb.Shutdown(context.Background())
}

// TestNewFailureLeavesNothingRunning: a configuration the runtime refuses
// in its second pool (an algorithm config would have refused, set here by
// hand) makes New fail with the pool's name and leaves no goroutine of
// the pool built before it (its silent-detection watchdog): the leak
// check of TestMain would catch one.
func TestNewFailureLeavesNothingRunning(t *testing.T) {
	cfg := mustParse(t, `
listener "l" {
  address = "127.0.0.1:0"
  pool    = "a"
}
pool "a" {
  backend "127.0.0.1:1" {}
}
pool "b" {
  backend "127.0.0.1:2" {}
}
`)
	cfg.Pools[1].Algorithm = "fastest"
	if _, err := New(cfg, Options{}); err == nil || !strings.Contains(err.Error(), `pool "b"`) {
		t.Fatalf("New: %v, want an error naming pool \"b\"", err)
	}
}
