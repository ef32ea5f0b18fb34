package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDemoServesThroughTheLoadBalancer runs the quick start on free ports:
// `lb demo` starts the demo backends itself and proxies to them.
func TestDemoServesThroughTheLoadBalancer(t *testing.T) {
	a := freePorts(t, 4)
	cfg := fmt.Sprintf(`
admin { address = %q }
listener "public" {
  address = %q
  pool    = "web"
}
pool "web" {
  health_check {
    interval = "200ms"
    timeout  = "100ms"
  }
  backend %q {}
  backend %q {}
}
`, a[0], a[1], a[2], a[3])
	path := filepath.Join(t.TempDir(), "demo.hcl")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	demo := start(t, "demo", "-config", path)
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	seen := map[string]bool{}
	eventually(t, 15*time.Second, "both demo backends answer through the LB", func() bool {
		code, body, backend, err := httpGet(c, "http://"+a[1]+"/hello")
		if err == nil && code == 200 && strings.Contains(body, `"path":"/hello"`) {
			seen[backend] = true
		}
		return len(seen) == 2
	})
	demo.signal(t, syscall.SIGINT)
	if code := demo.wait(t, 40*time.Second); code != 0 {
		t.Fatalf("demo exit code %d", code)
	}
}
