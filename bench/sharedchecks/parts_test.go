package main

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lbtrust/lb/config"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*settings)
		ok      bool
		timeout time.Duration
	}{
		{"defaults", func(*settings) {}, true, 750 * time.Millisecond},
		{"timeout given", func(s *settings) { s.Timeout = Millis(100 * time.Millisecond) }, true, 100 * time.Millisecond},
		{"timeout not below interval", func(s *settings) { s.Timeout = s.Interval }, false, 0},
		{"no instance", func(s *settings) { s.Instances = 0 }, false, 0},
		{"too many instances", func(s *settings) { s.Instances = 64 }, false, 0},
		{"no backend", func(s *settings) { s.Backends = 0 }, false, 0},
		{"no replica", func(s *settings) { s.Replicas = 0 }, false, 0},
		{"ttl not whole seconds", func(s *settings) { s.TTL = Millis(1500 * time.Millisecond) }, false, 0},
		{"ttl below 1s", func(s *settings) { s.TTL = 0 }, false, 0},
		{"duration below interval", func(s *settings) { s.Duration = Millis(time.Millisecond) }, false, 0},
		{"threshold 0", func(s *settings) { s.Unhealthy = 0 }, false, 0},
		{"no join window", func(s *settings) { s.JoinWindow = 0 }, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := defaults()
			tt.change(&s)
			err := s.validate()
			if (err == nil) != tt.ok {
				t.Fatalf("validate: %v; want ok %v", err, tt.ok)
			}
			if tt.ok && s.Timeout.D() != tt.timeout {
				t.Errorf("timeout %s, want %s", s.Timeout.D(), tt.timeout)
			}
		})
	}
}

func TestSpreadOf(t *testing.T) {
	tests := []struct {
		xs   []float64
		want Spread
	}{
		{nil, Spread{}},
		{[]float64{3}, Spread{3, 3, 3, 1}},
		{[]float64{3, 1, 2}, Spread{1, 2, 3, 3}},
		{[]float64{4, 1, 2, 3}, Spread{1, 2.5, 4, 4}},
	}
	for _, tt := range tests {
		if got := spreadOf(tt.xs); got != tt.want {
			t.Errorf("spreadOf(%v) = %+v, want %+v", tt.xs, got, tt.want)
		}
	}
}

// TestConfigLoads checks that the generated configuration is one the lb
// accepts, with the settings where they belong.
func TestConfigLoads(t *testing.T) {
	s := defaults()
	if err := s.validate(); err != nil {
		t.Fatal(err)
	}
	c := lbConfig{s: s, etcd: "127.0.0.1:2379", backends: []string{"127.0.0.1:10001", "127.0.0.1:10002"}}
	path := filepath.Join(t.TempDir(), "lb.hcl")
	if err := os.WriteFile(path, []byte(c.render("lb2", "127.0.0.1:9901", "127.0.0.1:8080")), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, diags := config.Load(path)
	if diags.HasErrors() {
		t.Fatalf("%v\n%s", diags, c.render("lb2", "127.0.0.1:9901", "127.0.0.1:8080"))
	}
	f := cfg.Fleet
	if f == nil || f.Member != "lb2" || f.Replicas != 2 || f.TTL != 2*time.Second || f.Etcd.Prefix != fleetPrefix {
		t.Fatalf("fleet block %+v", f)
	}
	if len(cfg.Pools) != 1 || len(cfg.Pools[0].Backends) != 2 {
		t.Fatalf("pools %+v", cfg.Pools)
	}
	hc := cfg.Pools[0].HealthCheck
	if hc.Host != "lb2" || hc.Path != probePath || hc.Interval != time.Second || hc.Timeout != 750*time.Millisecond ||
		hc.UnhealthyThreshold != 2 || hc.HealthyThreshold != 2 {
		t.Errorf("health check %+v", hc)
	}
}

// TestBackendsLogProbesByHost probes the backends as lb instances would
// and checks the log and the failing switch.
func TestBackendsLogProbesByHost(t *testing.T) {
	b, err := startBackends(2, []string{"lb1", "lb2"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.stop()
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	get := func(i int, host, path string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, "http://"+b.addrs[i]+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	m := b.mark()
	if code := get(0, "lb2", probePath); code != 200 {
		t.Errorf("probe: %d", code)
	}
	b.setFailing(1, true)
	if code := get(1, "lb1", probePath); code != 503 {
		t.Errorf("probe of a failing backend: %d", code)
	}
	if code := get(1, "other", probePath); code != 503 {
		t.Errorf("probe of a failing backend: %d", code)
	}
	if code := get(0, "lb1", "/other"); code != 404 {
		t.Errorf("not a probe: %d", code)
	}
	got := b.between(m, -1)
	want := []probe{{Backend: 0, Member: 1}, {Backend: 1, Member: 0}, {Backend: 1, Member: -1}}
	if len(got) != len(want) {
		t.Fatalf("logged %+v", got)
	}
	for k := range want {
		if got[k].Backend != want[k].Backend || got[k].Member != want[k].Member || got[k].At <= 0 {
			t.Errorf("probe %d: %+v, want %+v", k, got[k], want[k])
		}
	}
}

func TestGaps(t *testing.T) {
	// Backend 0 probed at 1s, 2s (before the kill at 2.5s), 4s;
	// backend 1 at 2.2s, then never.
	b := &backends{probes: []probe{
		{At: time.Second, Backend: 0}, {At: 2 * time.Second, Backend: 0}, {At: 2200 * time.Millisecond, Backend: 1},
		{At: 4 * time.Second, Backend: 0},
	}}
	r := &runner{bk: b}
	got := r.gaps(map[int]int16{0: -1, 1: -1}, 3, 2500*time.Millisecond, 5*time.Second)
	want := map[time.Duration]bool{2 * time.Second: true, 2800 * time.Millisecond: true}
	if len(got) != 2 || !want[got[0]] || !want[got[1]] || got[0] == got[1] {
		t.Errorf("gaps %v, want 2s and 2.8s", got)
	}
}
