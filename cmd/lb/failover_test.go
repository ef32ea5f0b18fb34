package main

import (
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// TestFailoverEndToEnd is the acceptance scenario of the foundation: three
// real backends behind the built binary; one is SIGKILLed under load and
// restarted. No client GET may fail, the dead backend must leave rotation
// within the detection window, and come back after the healthy threshold.
func TestFailoverEndToEnd(t *testing.T) {
	addrs := freePorts(t, 5)
	lbAddr, adminAddr, backends := addrs[0], addrs[1], addrs[2:]
	cfg := fmt.Sprintf(`
admin { address = %q }
listener "public" {
  address = %q
  pool    = "web"
}
pool "web" {
  health_check {
    interval            = "200ms"
    timeout             = "150ms"
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }
  backend %q {}
  backend %q {}
  backend %q {}
}
`, adminAddr, lbAddr, backends[0], backends[1], backends[2])
	var procs []*proc
	for i, a := range backends {
		procs = append(procs, startBackend(t, a, fmt.Sprintf("b%d", i+1)))
	}
	lb, _ := startLB(t, cfg)

	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	waitHealthy(t, c, adminAddr, backends...)
	code, _, _, err := httpGet(c, "http://"+adminAddr+"/readyz")
	if err != nil || code != 200 {
		t.Fatalf("/readyz = %d %v with every backend healthy", code, err)
	}

	load := startLoad("http://"+lbAddr+"/", 4, 5*time.Millisecond)
	eventually(t, 10*time.Second, "every backend serving", func() bool {
		return load.servedBy("b1") > 5 && load.servedBy("b2") > 5 && load.servedBy("b3") > 5
	})

	procs[1].signal(t, syscall.SIGKILL)
	killed := time.Now()
	eventually(t, 10*time.Second, "killed backend marked unhealthy", func() bool {
		b, _ := backendStatus(t, c, adminAddr, backends[1])
		return b.State == "unhealthy"
	})
	detected := time.Since(killed)
	t.Logf("detection: backend unhealthy %s after SIGKILL (interval 200ms x 2)", detected.Round(time.Millisecond))
	if detected > 5*time.Second {
		t.Errorf("detection took %s", detected)
	}
	// From here on not one request may be sent to it.
	before, _ := backendStatus(t, c, adminAddr, backends[1])
	time.Sleep(time.Second)
	after, _ := backendStatus(t, c, adminAddr, backends[1])
	if after.Requests != before.Requests {
		t.Errorf("unhealthy backend got %d requests after detection", after.Requests-before.Requests)
	}
	if after.Reason != "connection_refused" {
		t.Errorf("reason %q, want connection_refused", after.Reason)
	}

	procs[1] = startBackend(t, backends[1], "b2")
	restarted := time.Now()
	servedBefore := load.servedBy("b2")
	eventually(t, 15*time.Second, "restarted backend serves again", func() bool {
		return load.servedBy("b2") > servedBefore
	})
	t.Logf("recovery: restarted backend served again %s after restart", time.Since(restarted).Round(time.Millisecond))

	results := load.end()
	failed := failures(t, results)
	t.Logf("%d client GETs, %d failed", len(results), failed)
	if failed > 0 {
		t.Fatalf("%d of %d GETs failed", failed, len(results))
	}

	lb.signal(t, syscall.SIGTERM)
	if code := lb.wait(t, 40*time.Second); code != 0 {
		t.Fatalf("lb exit code %d after SIGTERM", code)
	}
}
