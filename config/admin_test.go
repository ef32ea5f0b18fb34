package config

import (
	"math"
	"testing"
	"time"
)

// adminFile is a whole configuration whose admin block has address plus
// body (lines 3 on).
func adminFile(body string) string {
	return `admin {
  address = "127.0.0.1:9901"
` + body + `
}
listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`
}

// parseAdmin parses adminFile(body), which must give no diagnostics.
func parseAdmin(t *testing.T, body string) *Config {
	t.Helper()
	cfg, diags := Parse([]byte(adminFile(body)), "lb.hcl")
	mustNoDiags(t, diags)
	return cfg
}

func TestEffectiveShutdownDelay(t *testing.T) {
	tests := []struct {
		name  string
		body  string // inside the admin block, after address
		delay time.Duration
		how   string
		grace time.Duration
	}{
		{
			name:  "defaults",
			delay: 0, how: "default 0s", grace: 30 * time.Second,
		},
		{
			name:  "shutdown_delay",
			body:  `shutdown_delay = "5s"`,
			delay: 5 * time.Second, how: "shutdown_delay = 5s", grace: 30 * time.Second,
		},
		{
			name:  "sub-second shutdown_delay",
			body:  `shutdown_delay = "1500ms"`,
			delay: 1500 * time.Millisecond, how: "shutdown_delay = 1.5s", grace: 30 * time.Second,
		},
		{
			name:  "zero shutdown_delay is the default",
			body:  `shutdown_delay = "0s"`,
			delay: 0, how: "default 0s", grace: 30 * time.Second,
		},
		{
			name: "upstream_probe",
			body: `upstream_probe {
    interval            = "10s"
    unhealthy_threshold = 3
  }`,
			delay: 40 * time.Second, how: "upstream_probe: 10s interval × 3 unhealthy_threshold + 10s margin = 40s",
			grace: 30 * time.Second,
		},
		{
			name: "upstream_probe with threshold 1 and a grace_period",
			body: `grace_period = "2m"
  upstream_probe {
    interval            = "2s"
    unhealthy_threshold = 1
  }`,
			delay: 4 * time.Second, how: "upstream_probe: 2s interval × 1 unhealthy_threshold + 2s margin = 4s",
			grace: 2 * time.Minute,
		},
		{
			name: "upstream_probe on an ALB's default timing",
			body: `upstream_probe {
    interval            = "30s"
    unhealthy_threshold = 2
  }`,
			delay: 90 * time.Second, how: "upstream_probe: 30s interval × 2 unhealthy_threshold + 30s margin = 1m30s",
			grace: 30 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := parseAdmin(t, tt.body)
			d, how := cfg.Admin.EffectiveShutdownDelay()
			if d != tt.delay || how != tt.how {
				t.Errorf("EffectiveShutdownDelay() = %s, %q; want %s, %q", d, how, tt.delay, tt.how)
			}
			if cfg.Admin.GracePeriod != tt.grace {
				t.Errorf("GracePeriod = %s, want %s", cfg.Admin.GracePeriod, tt.grace)
			}
			delay, grace, timing := cfg.ShutdownTiming()
			if delay != tt.delay || grace != tt.grace || len(timing) <= len(tt.how) || timing[:len(tt.how)] != tt.how {
				t.Errorf("ShutdownTiming() = %s, %s, %q; want %s, %s and a derivation starting %q",
					delay, grace, timing, tt.delay, tt.grace, tt.how)
			}
		})
	}
}

func TestEffectiveShutdownDelayWithoutDecoding(t *testing.T) {
	var none *Admin
	if d, how := none.EffectiveShutdownDelay(); d != 0 || how != "no admin block: default 0s" {
		t.Errorf("nil Admin: EffectiveShutdownDelay() = %s, %q", d, how)
	}
	huge := &Admin{UpstreamProbe: &UpstreamProbe{Interval: time.Duration(math.MaxInt64 / 2), UnhealthyThreshold: 3}}
	if d, _ := huge.EffectiveShutdownDelay(); d != math.MaxInt64 {
		t.Errorf("overflowing upstream_probe gives %d, want it capped at %d", d, int64(math.MaxInt64))
	}
	c := &Config{Admin: &Admin{ShutdownDelay: 5 * time.Second, GracePeriod: 45 * time.Second}}
	if d, g, how := c.ShutdownTiming(); d != 5*time.Second || g != 45*time.Second || how != "shutdown_delay = 5s; grace_period = 45s" {
		t.Errorf("ShutdownTiming() = %s, %s, %q", d, g, how)
	}
}

// TestZeroDelaysAreValid: unlike other durations, deregistration_delay
// and shutdown_delay accept "0s", meaning at once.
func TestZeroDelaysAreValid(t *testing.T) {
	src := `admin {
  address        = "127.0.0.1:9901"
  shutdown_delay = "0s"
}
listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  deregistration_delay = "0s"
  backend "127.0.0.1:9001" {}
}
`
	cfg, diags := Parse([]byte(src), "lb.hcl")
	mustNoDiags(t, diags)
	if d := cfg.Pool("p").DeregistrationDelay; d != 0 {
		t.Errorf("DeregistrationDelay = %s, want 0s", d)
	}
	if a := cfg.Admin; a.ShutdownDelay != 0 || a.GracePeriod != DefaultGracePeriod || a.UpstreamProbe != nil {
		t.Errorf("Admin = %+v, want shutdown_delay 0s, grace_period %s, no upstream_probe", a, DefaultGracePeriod)
	}
}
