package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAccessLogReopenOnSIGUSR1: the built binary writes the combined
// layout to its access log file; after the file is moved away (as
// logrotate does) lines keep going to the moved file, and after SIGUSR1
// they go to a new file at the configured path. /status and /metrics
// count the lines.
func TestAccessLogReopenOnSIGUSR1(t *testing.T) {
	a := freePorts(t, 3)
	adminAddr, lbAddr, b1 := a[0], a[1], a[2]
	startBackend(t, b1, "b1")
	cfg := lbConfig(adminAddr, lbAddr, "", "", b1)
	cfg = strings.Replace(cfg, "  pool    = \"web\"\n}", "  pool    = \"web\"\n  access_log {\n    output = \"access.log\"\n    format = \"combined\"\n  }\n}", 1)
	lb, path := startLB(t, cfg)
	logPath := filepath.Join(filepath.Dir(path), "access.log")
	c := client(t, 5*time.Second)
	waitHealthy(t, c, adminAddr, b1)

	get := func(target string) {
		t.Helper()
		if code, _, _, err := httpGet(c, "http://"+lbAddr+target); err != nil || code != 200 {
			t.Fatalf("GET %s: %d %v", target, code, err)
		}
	}
	get("/one")
	combined := regexp.MustCompile(`^127\.0\.0\.1 - - \[[^\]]+\] "GET /one HTTP/1\.1" 200 \d+ "-" "Go-http-client/1\.1"$`)
	eventually(t, 10*time.Second, "the first line", func() bool {
		return combined.MatchString(strings.TrimSpace(readText(logPath)))
	})

	moved := logPath + ".1"
	if err := os.Rename(logPath, moved); err != nil {
		t.Fatal(err)
	}
	get("/two")
	eventually(t, 10*time.Second, "/two in the moved file", func() bool { return strings.Contains(readText(moved), "/two") })

	lb.signal(t, syscall.SIGUSR1)
	eventually(t, 10*time.Second, "a line in a new file at the path", func() bool {
		get("/three")
		return strings.Contains(readText(logPath), "/three")
	})
	if strings.Contains(readText(moved), "/three") && !strings.Contains(readText(logPath), "/three") {
		t.Error("/three only in the moved file")
	}

	st := readURL(t, c, "http://"+adminAddr+"/status")
	if !regexp.MustCompile(`"access_log":\s*\{\s*"written":\s*[1-9]\d*,\s*"dropped":\s*0,`).MatchString(st) {
		t.Errorf("/status has no access_log counts: %s", st)
	}
	if m := readURL(t, c, "http://"+adminAddr+"/metrics"); !regexp.MustCompile(`lb_access_log_lines_total\{listener="public",result="written"\} [1-9]`).MatchString(m) {
		t.Errorf("/metrics has no lb_access_log_lines_total")
	}
	lb.signal(t, syscall.SIGTERM)
	if code := lb.wait(t, 30*time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

func readText(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func readURL(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
