package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// stripRanges clears every DeclRange in cfg, so a test can compare values
// with reflect.DeepEqual and check positions separately.
func stripRanges(cfg *Config) {
	if cfg.Admin != nil {
		cfg.Admin.DeclRange = hcl.Range{}
		if cfg.Admin.UpstreamProbe != nil {
			cfg.Admin.UpstreamProbe.DeclRange = hcl.Range{}
		}
	}
	for _, l := range cfg.Listeners {
		l.DeclRange = hcl.Range{}
		for _, r := range l.Routes {
			r.DeclRange = hcl.Range{}
		}
	}
	for _, p := range cfg.Pools {
		p.DeclRange = hcl.Range{}
		p.HealthCheck.DeclRange = hcl.Range{}
		p.Retry.DeclRange = hcl.Range{}
		p.Passive.DeclRange = hcl.Range{}
		for _, b := range p.Backends {
			b.DeclRange = hcl.Range{}
		}
	}
}

func mustNoDiags(t *testing.T, diags hcl.Diagnostics) {
	t.Helper()
	for _, d := range diags {
		t.Errorf("unexpected diagnostic: %s", d.Error())
	}
	if len(diags) > 0 {
		t.FailNow()
	}
}

// mustOneDiag returns the one diagnostic in diags; with any other count
// it logs them all and stops the test.
func mustOneDiag(t *testing.T, diags hcl.Diagnostics) *hcl.Diagnostic {
	t.Helper()
	if len(diags) != 1 {
		for _, d := range diags {
			t.Logf("  %s", d.Error())
		}
		t.Fatalf("got %d diagnostics, want exactly 1", len(diags))
	}
	return diags[0]
}

// mustDiagPrefixes checks that diags are len(want) diagnostics whose
// Error() texts start with want's, in order; with another count it logs
// them all and stops the test.
func mustDiagPrefixes(t *testing.T, diags hcl.Diagnostics, want []string) {
	t.Helper()
	if len(diags) != len(want) {
		for _, d := range diags {
			t.Logf("  %s", d.Error())
		}
		t.Fatalf("got %d diagnostics, want %d", len(diags), len(want))
	}
	for i, d := range diags {
		if !strings.HasPrefix(d.Error(), want[i]) {
			t.Errorf("diagnostic %d = %q, want prefix %q", i, d.Error(), want[i])
		}
	}
}

func TestLoadFull(t *testing.T) {
	cfg, diags := Load("testdata/full.hcl")
	mustNoDiags(t, diags)

	// Positions first: every block remembers where it was declared.
	positions := []struct {
		name string
		rng  hcl.Range
		line int
	}{
		{"admin", cfg.Admin.DeclRange, 8},
		{"upstream_probe", cfg.Admin.UpstreamProbe.DeclRange, 20},
		{"listener public", cfg.Listeners[0].DeclRange, 27},
		{"route 1", cfg.Listeners[0].Routes[0].DeclRange, 39},
		{"route 2", cfg.Listeners[0].Routes[1].DeclRange, 44},
		{"listener internal", cfg.Listeners[1].DeclRange, 51},
		{"pool web", cfg.Pools[0].DeclRange, 56},
		{"health_check", cfg.Pools[0].HealthCheck.DeclRange, 79},
		{"retry", cfg.Pools[0].Retry.DeclRange, 95},
		{"passive", cfg.Pools[0].Passive.DeclRange, 106},
		{"backend 9001", cfg.Pools[0].Backends[0].DeclRange, 115},
		{"backend 9002", cfg.Pools[0].Backends[1].DeclRange, 116},
		{"pool api", cfg.Pools[1].DeclRange, 121},
	}
	for _, p := range positions {
		if p.rng.Filename != "testdata/full.hcl" || p.rng.Start.Line != p.line {
			t.Errorf("%s declared at %s, want testdata/full.hcl line %d", p.name, p.rng, p.line)
		}
	}
	for name, r := range map[string]hcl.Range{
		"health_check": cfg.Pools[1].HealthCheck.DeclRange,
		"retry":        cfg.Pools[1].Retry.DeclRange,
		"passive":      cfg.Pools[1].Passive.DeclRange,
	} {
		if r != (hcl.Range{}) {
			t.Errorf("absent %s has DeclRange %s, want the zero Range", name, r)
		}
	}
	if got := cfg.Pools[0].Retry.PerTryTimeout; got != time.Second {
		t.Errorf("web per_try_timeout = %s, want 1s", got)
	}
	if got := cfg.Pools[1].Retry.PerTryTimeout; got != 0 {
		t.Errorf("api per_try_timeout = %s, want 0 (not written: the header_timeout bounds a try)", got)
	}

	delay, grace, how := cfg.ShutdownTiming()
	if wantHow := "upstream_probe: 5s interval × 2 unhealthy_threshold + 5s margin = 15s; grace_period = 45s"; delay != 15*time.Second || grace != 45*time.Second || how != wantHow {
		t.Errorf("ShutdownTiming() = %s, %s, %q; want 15s, 45s, %q", delay, grace, how, wantHow)
	}

	stripRanges(cfg)
	want := &Config{
		Admin: &Admin{
			Address:       "127.0.0.1:9901",
			ShutdownDelay: 0,
			GracePeriod:   45 * time.Second,
			UpstreamProbe: &UpstreamProbe{Interval: 5 * time.Second, UnhealthyThreshold: 2},
			EventBuffer:   DefaultEventBuffer,
			ReadyPools:    DefaultReadyPools,
		},
		Listeners: []*Listener{
			{
				Name:    "public",
				Address: "127.0.0.1:8080",
				Pool:    "web",
				Routes: []*Route{
					{Host: "api.example.com", PathPrefix: "/v1/", Pool: "api"},
					{PathPrefix: "/static/", Pool: "web"},
				},
				ReadTimeout:        15 * time.Second,
				WriteTimeout:       20 * time.Second,
				IdleTimeout:        90 * time.Second,
				MaxRequestBodySize: 1048576,
				RequestBufferSize:  8192,
				ReadHeaderTimeout:  10 * time.Second,
				BodyReadTimeout:    15 * time.Second,
				MaxHeaderBytes:     16384,
				MaxHeaderCount:     100,
				MaxURILength:       8192,
				MaxConnections:     10000,
			},
			{
				Name:               "internal",
				Address:            ":8081",
				Pool:               "api",
				ReadTimeout:        30 * time.Second,
				WriteTimeout:       30 * time.Second,
				IdleTimeout:        60 * time.Second,
				MaxRequestBodySize: 10485760,
				RequestBufferSize:  16384,
				ReadHeaderTimeout:  10 * time.Second,
				BodyReadTimeout:    30 * time.Second,
				MaxHeaderBytes:     16384,
				MaxHeaderCount:     100,
				MaxURILength:       8192,
				MaxConnections:     10000,
			},
		},
		Pools: []*Pool{
			{
				Name:      "web",
				Algorithm: "weighted_round_robin",
				HealthCheck: HealthCheck{
					Type:               "http",
					Path:               "/healthz",
					Host:               "web.internal",
					Port:               8081,
					ReuseConnection:    false,
					Interval:           200 * time.Millisecond,
					Timeout:            100 * time.Millisecond,
					HealthyThreshold:   1,
					UnhealthyThreshold: 2,
					ExpectedStatus:     []StatusRange{{200, 204}, {301, 301}},
					ExpectedStatusText: "200-204,301",
				},
				Backends: []*Backend{
					{Address: "127.0.0.1:9001", Weight: 3},
					{Address: "127.0.0.1:9002", Weight: 1},
				},
				ResponseTimeout:     5 * time.Second,
				HeaderTimeout:       3 * time.Second,
				BodyIdleTimeout:     2 * time.Second,
				ConnectTimeout:      500 * time.Millisecond,
				IdleConnTimeout:     4 * time.Second,
				MaxConnsPerBackend:  256,
				DeregistrationDelay: 20 * time.Second,
				Retry: Retry{
					Attempts:      2,
					PerTryTimeout: time.Second,
					On:            []string{"connect_failure", "reset", "timeout", "503"},
					BudgetPercent: 25,
				},
				Passive: Passive{
					Enabled:             true,
					ConsecutiveFailures: 3,
					ConsecutiveTimeouts: 1,
					BaseEjection:        5 * time.Second,
					MaxEjection:         60 * time.Second,
					MaxEjectedPercent:   34,
				},
				WhenAllUnhealthy: "fail_open",
				PanicThreshold:   30,
				SlowStart:        30 * time.Second,
				SilentAfter:      200 * time.Millisecond,
			},
			{
				Name:      "api",
				Algorithm: "round_robin",
				HealthCheck: HealthCheck{
					Type:               "http",
					Path:               "/readyz",
					ReuseConnection:    true,
					Interval:           10 * time.Second,
					Timeout:            5 * time.Second,
					HealthyThreshold:   2,
					UnhealthyThreshold: 3,
					ExpectedStatus:     []StatusRange{{200, 200}},
					ExpectedStatusText: "200",
				},
				Backends: []*Backend{
					{Address: "[::1]:9101", Weight: 1},
					{Address: "localhost:9102", Weight: 1},
				},
				ResponseTimeout:     0,
				HeaderTimeout:       30 * time.Second,
				BodyIdleTimeout:     60 * time.Second,
				ConnectTimeout:      2 * time.Second,
				IdleConnTimeout:     10 * time.Second,
				MaxConnsPerBackend:  1024,
				DeregistrationDelay: 300 * time.Second,
				Retry: Retry{
					Attempts:      1,
					PerTryTimeout: 0,
					On:            []string{"connect_failure", "reset"},
					BudgetPercent: 20,
				},
				Passive: Passive{
					Enabled:             true,
					ConsecutiveFailures: 5,
					ConsecutiveTimeouts: 2,
					BaseEjection:        10 * time.Second,
					MaxEjection:         300 * time.Second,
					MaxEjectedPercent:   50,
				},
				WhenAllUnhealthy: "fail_open",
				PanicThreshold:   50,
				SlowStart:        0,
				SilentAfter:      0,
			},
		},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("decoded config differs from the expected one")
		compareConfigs(t, cfg, want)
	}
}

// compareConfigs reports which top-level parts of two configs differ.
func compareConfigs(t *testing.T, got, want *Config) {
	t.Helper()
	if !reflect.DeepEqual(got.Admin, want.Admin) {
		t.Errorf("admin:\n got %+v\nwant %+v", got.Admin, want.Admin)
	}
	for i := range max(len(got.Listeners), len(want.Listeners)) {
		if i >= len(got.Listeners) || i >= len(want.Listeners) || !reflect.DeepEqual(got.Listeners[i], want.Listeners[i]) {
			t.Errorf("listener %d differs", i)
		}
	}
	for i := range max(len(got.Pools), len(want.Pools)) {
		if i >= len(got.Pools) || i >= len(want.Pools) || !reflect.DeepEqual(got.Pools[i], want.Pools[i]) {
			t.Errorf("pool %d differs", i)
		}
	}
}

func TestParseMinimalDefaults(t *testing.T) {
	src := `
listener "l" {
  address = "127.0.0.1:0"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`
	cfg, diags := Parse([]byte(src), "lb.hcl")
	mustNoDiags(t, diags)
	if cfg.Admin != nil {
		t.Errorf("Admin = %+v without an admin block, want nil", cfg.Admin)
	}
	delay, grace, how := cfg.ShutdownTiming()
	if wantHow := "no admin block: default 0s; grace_period default 30s"; delay != 0 || grace != DefaultGracePeriod || how != wantHow {
		t.Errorf("ShutdownTiming() without admin = %s, %s, %q; want 0s, 30s, %q", delay, grace, how, wantHow)
	}
	l, p := cfg.Listener("l"), cfg.Pool("p")
	if l == nil || p == nil {
		t.Fatalf("Listener(l) = %v, Pool(p) = %v", l, p)
	}
	if cfg.Pool("nope") != nil || cfg.Listener("nope") != nil {
		t.Errorf("lookup of an undeclared name returned non-nil")
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"read_timeout", l.ReadTimeout, DefaultReadTimeout},
		{"write_timeout", l.WriteTimeout, DefaultWriteTimeout},
		{"idle_timeout", l.IdleTimeout, DefaultIdleTimeout},
		{"max_request_body_size", l.MaxRequestBodySize, 10485760},
		{"request_buffer_size", l.RequestBufferSize, 16384},
		{"DefaultRequestBufferSize", DefaultRequestBufferSize, 16384},
		{"routes", len(l.Routes), 0},
		{"algorithm", p.Algorithm, "round_robin"},
		{"response_timeout", p.ResponseTimeout, time.Duration(0)},
		{"header_timeout", p.HeaderTimeout, 30 * time.Second},
		{"body_idle_timeout", p.BodyIdleTimeout, 60 * time.Second},
		{"DefaultResponseTimeout", DefaultResponseTimeout, time.Duration(0)},
		{"DefaultHeaderTimeout", DefaultHeaderTimeout, 30 * time.Second},
		{"DefaultBodyIdleTimeout", DefaultBodyIdleTimeout, 60 * time.Second},
		{"connect_timeout", p.ConnectTimeout, 2 * time.Second},
		{"idle_conn_timeout", p.IdleConnTimeout, 10 * time.Second},
		{"max_conns_per_backend", p.MaxConnsPerBackend, 1024},
		{"deregistration_delay", p.DeregistrationDelay, 300 * time.Second},
		{"DefaultDeregistrationDelay", DefaultDeregistrationDelay, 300 * time.Second},
		{"type", p.HealthCheck.Type, "http"},
		{"path", p.HealthCheck.Path, "/readyz"},
		{"host", p.HealthCheck.Host, ""},
		{"port", p.HealthCheck.Port, 0},
		{"interval", p.HealthCheck.Interval, 10 * time.Second},
		{"timeout", p.HealthCheck.Timeout, 5 * time.Second},
		{"healthy_threshold", p.HealthCheck.HealthyThreshold, 2},
		{"unhealthy_threshold", p.HealthCheck.UnhealthyThreshold, 3},
		{"expected_status", p.HealthCheck.ExpectedStatusText, "200"},
		{"expected_status ranges", p.HealthCheck.ExpectedStatus, []StatusRange{{Min: 200, Max: 200}}},
		{"weight", p.Backends[0].Weight, 1},
		{"retry.attempts", p.Retry.Attempts, 1},
		{"retry.per_try_timeout", p.Retry.PerTryTimeout, time.Duration(0)},
		{"retry.on", p.Retry.On, []string{"connect_failure", "reset"}},
		{"retry.budget_percent", p.Retry.BudgetPercent, 20},
		{"retry DeclRange", p.Retry.DeclRange, hcl.Range{}},
		{"passive.enabled", p.Passive.Enabled, true},
		{"passive.consecutive_failures", p.Passive.ConsecutiveFailures, 5},
		{"passive.consecutive_timeouts", p.Passive.ConsecutiveTimeouts, 2},
		{"passive.base_ejection", p.Passive.BaseEjection, 10 * time.Second},
		{"passive.max_ejection", p.Passive.MaxEjection, 300 * time.Second},
		{"passive.max_ejected_percent", p.Passive.MaxEjectedPercent, 50},
		{"passive DeclRange", p.Passive.DeclRange, hcl.Range{}},
		{"when_all_unhealthy", p.WhenAllUnhealthy, "fail_open"},
		{"panic_threshold", p.PanicThreshold, 50},
		{"slow_start", p.SlowStart, time.Duration(0)},
		{"silent_after", p.SilentAfter, SilentAfterAuto},
		{"SilentAfterAuto", SilentAfterAuto, time.Duration(0)},
		{"SilentAfterOff", SilentAfterOff, time.Duration(-1)},
		{"SilentAfterFloor", SilentAfterFloor, 300 * time.Millisecond},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestParseValidEdgeCases holds inputs that look suspicious but are fine.
func TestParseValidEdgeCases(t *testing.T) {
	tests := []struct {
		name string
		src  string
	}{
		{"port 0 never clashes", `
admin { address = "127.0.0.1:0" }
listener "a" {
  address = "127.0.0.1:0"
  pool    = "p"
}
listener "b" {
  address = "127.0.0.1:0"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`},
		{"same port on different hosts", `
listener "a" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
listener "b" {
  address = "127.0.0.2:8080"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`},
		{"sub-second probe timing and tcp check", `
listener "a" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  health_check {
    type     = "tcp"
    interval = "200ms"
    timeout  = "150ms"
  }
  backend "127.0.0.1:9001" {}
}
`},
		{"route by host only, every algorithm", `
listener "a" {
  address = "127.0.0.1:8080"
  pool    = "p1"
  route {
    host = "api.example.com"
    pool = "p2"
  }
}
pool "p1" {
  algorithm = "least_conn"
  backend "127.0.0.1:9001" {}
}
pool "p2" {
  algorithm = "power_of_two"
  backend "127.0.0.1:9001" {}
}
pool "p3" {
  algorithm = "random"
  backend "127.0.0.1:9001" {}
}
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := Parse([]byte(tt.src), "lb.hcl")
			mustNoDiags(t, diags)
		})
	}
}

func TestAlgorithmsAndTypesAreFresh(t *testing.T) {
	a := Algorithms()
	a[0] = "changed"
	if Algorithms()[0] != AlgorithmRoundRobin {
		t.Errorf("Algorithms shares its slice with callers")
	}
	h := HealthCheckTypes()
	h[0] = "changed"
	if HealthCheckTypes()[0] != HealthCheckHTTP {
		t.Errorf("HealthCheckTypes shares its slice with callers")
	}
}

// TestParseGRPCHealthCheck: a grpc check keeps its service, port and
// host, and carries no HTTP path or statuses; grpc_service defaults to ""
// (the whole server) and may be written as "".
func TestParseGRPCHealthCheck(t *testing.T) {
	const head = `
listener "a" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
  health_check {
    type = "grpc"
`
	tests := []struct {
		name, attrs string
		want        HealthCheck
	}{
		{"service, port and host", `
    grpc_service = "mypackage.MyService"
    port         = 9090
    host         = "grpc.internal"
    interval     = "2s"
    timeout      = "1s"
`, HealthCheck{
			Type: HealthCheckGRPC, GRPCService: "mypackage.MyService", Port: 9090, Host: "grpc.internal",
			Interval: 2 * time.Second, Timeout: time.Second,
			HealthyThreshold: DefaultHealthyThreshold, UnhealthyThreshold: DefaultUnhealthyThreshold,
		}},
		{"whole server by default", ``, HealthCheck{
			Type: HealthCheckGRPC, Interval: DefaultInterval, Timeout: DefaultTimeout,
			HealthyThreshold: DefaultHealthyThreshold, UnhealthyThreshold: DefaultUnhealthyThreshold,
		}},
		{"whole server written as empty", `
    grpc_service = ""
`, HealthCheck{
			Type: HealthCheckGRPC, Interval: DefaultInterval, Timeout: DefaultTimeout,
			HealthyThreshold: DefaultHealthyThreshold, UnhealthyThreshold: DefaultUnhealthyThreshold,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, diags := Parse([]byte(head+tt.attrs+"  }\n}\n"), "lb.hcl")
			mustNoDiags(t, diags)
			got := cfg.Pools[0].HealthCheck
			got.DeclRange = hcl.Range{}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("HealthCheck = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestGRPCCheckHTTPAttributes: path and expected_status on a grpc check
// are both reported, in one pass, each at its value.
func TestGRPCCheckHTTPAttributes(t *testing.T) {
	src := `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  health_check {
    type            = "grpc"
    path            = "/readyz"
    expected_status = "200"
  }
  backend "127.0.0.1:9001" {}
}
`
	_, diags := Parse([]byte(src), "lb.hcl")
	want := []string{
		`lb.hcl:8,23-32: Attribute not used by this check type; path only applies`,
		`lb.hcl:9,23-28: Attribute not used by this check type; expected_status only applies`,
	}
	mustDiagPrefixes(t, diags, want)
}
