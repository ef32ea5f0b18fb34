package target

import (
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/lbtrust/lb/config"
)

// The generated configuration must be one the project's lb accepts, with
// the values the bench asked for.
func TestGeneratedConfigIsValid(t *testing.T) {
	c := LBConfig{
		Listen: "127.0.0.1:18080", Admin: "127.0.0.1:19901",
		Backends:  []string{"127.0.0.1:19001", "127.0.0.1:19002"},
		Algorithm: "least_conn", Interval: time.Second, Timeout: 500 * time.Millisecond,
		HealthyThreshold: 2, UnhealthyThreshold: 3, DeregistrationDelay: 30 * time.Second, GracePeriod: 5 * time.Second,
	}
	path := filepath.Join(t.TempDir(), "lb.hcl")
	if err := os.WriteFile(path, []byte(c.HCL()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := config.Load(path)
	if diags.HasErrors() {
		t.Fatalf("generated config rejected: %v\n%s", diags, c.HCL())
	}
	p := cfg.Pools[0]
	hc := p.HealthCheck
	if cfg.Listeners[0].Address != c.Listen || cfg.Admin.Address != c.Admin || p.Algorithm != "least_conn" ||
		hc.Interval != time.Second || hc.Timeout != 500*time.Millisecond || hc.HealthyThreshold != 2 || hc.UnhealthyThreshold != 3 ||
		p.DeregistrationDelay != 30*time.Second || len(p.Backends) != 2 || hc.Path != "/readyz" {
		t.Errorf("config does not say what was asked:\n%s", c.HCL())
	}
}

func TestSplitCommand(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"haproxy -db -f x.cfg", []string{"haproxy", "-db", "-f", "x.cfg"}},
		{`  nginx   -c '/tmp/my dir/n.conf' -g "daemon off;" `, []string{"nginx", "-c", "/tmp/my dir/n.conf", "-g", "daemon off;"}},
		{`sh -c 'exec envoy -c e.yaml'`, []string{"sh", "-c", "exec envoy -c e.yaml"}},
		{`a\ b "x\"y" ''`, []string{"a b", `x"y`, ""}},
	} {
		got, err := SplitCommand(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitCommand(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "   ", "a 'b", `a "b`} {
		if _, err := SplitCommand(bad); err == nil {
			t.Errorf("SplitCommand(%q) accepted", bad)
		}
	}
}

func TestParseStat(t *testing.T) {
	line := "4242 (my (odd) name) S 1 4240 4240 0 -1 4194560 100 0 0 0 250 37 0 0 20 0 4 0 1000 0 0"
	pgrp, ticks, err := parseStat(line)
	if err != nil || pgrp != 4240 || ticks != 287 {
		t.Errorf("parseStat = %d, %d, %v; want 4240, 287", pgrp, ticks, err)
	}
	if _, _, err := parseStat("garbage"); err == nil {
		t.Error("parseStat accepted garbage")
	}
	// This test process's own group exists and has used some CPU.
	spin := time.Now()
	for time.Since(spin) < 50*time.Millisecond {
	}
	if d, err := GroupCPU(syscall.Getpgrp()); err != nil || d <= 0 {
		t.Errorf("GroupCPU(own group) = %s, %v", d, err)
	}
}

func TestParseLogLine(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	zapLine := `{"level":"info","ts":"2026-01-02T03:04:06.250Z","caller":"pool/publish.go:25","msg":"backend state changed","pool":"web","backend":"127.0.0.1:9001","from":"healthy","to":"unhealthy","reason":"connection_refused","detail":"","in_flight":0}`
	e, ok := ParseLogLine(zapLine, now)
	want := LBEvent{At: now.Add(1250 * time.Millisecond), Ref: "127.0.0.1:9001", From: "healthy", To: "unhealthy", Reason: "connection_refused"}
	if !ok || !e.At.Equal(want.At) || e.Ref != want.Ref || e.From != want.From || e.To != want.To || e.Reason != want.Reason {
		t.Errorf("zap line: %+v %v, want %+v", e, ok, want)
	}
	for line, want := range map[string]LBEvent{
		`[WARNING]  (1234) : Server be/b1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 2 active and 0 backup servers left.`: {At: now, Ref: "b1", To: "down", Reason: "Layer4 connection problem"},
		`<133>Jan  2 03:04:05 haproxy[1]: Server be/b2 is UP, reason: Layer7 check passed, code: 200, check duration: 1ms.`:                                                 {At: now, Ref: "b2", To: "up", Reason: "Layer7 check passed"},
		`[WARNING]  (1) : Server be/b3 is going DOWN for maintenance. 2 active servers left.`:                                                                               {At: now, Ref: "b3", To: "maint"},
	} {
		if e, ok := ParseLogLine(line, now); !ok || e != want {
			t.Errorf("ParseLogLine(%q) = %+v, %v; want %+v", line, e, ok, want)
		}
	}
	for _, other := range []string{`{"level":"info","msg":"load balancer started"}`, "hello", `[NOTICE] (1) : New worker (2) forked`} {
		if _, ok := ParseLogLine(other, now); ok {
			t.Errorf("ParseLogLine(%q) recognized an event", other)
		}
	}
}
