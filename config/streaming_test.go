package config

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// TestPoolAnswerTimeouts holds valid header_timeout, body_idle_timeout
// and response_timeout settings and what they decode to, including a
// file written before header_timeout existed.
func TestPoolAnswerTimeouts(t *testing.T) {
	type timeouts struct {
		response, header, bodyIdle, perTry time.Duration
	}
	tests := []struct {
		name string
		body string
		want timeouts
	}{
		{"defaults: no limit on the whole answer", ``,
			timeouts{0, 30 * time.Second, 60 * time.Second, 30 * time.Second}},
		{"old config with only response_timeout: the header may take all of it", `
  response_timeout = "60s"`,
			timeouts{60 * time.Second, 60 * time.Second, 60 * time.Second, 60 * time.Second}},
		{"short response_timeout alone lowers the header default, not body_idle_timeout", `
  response_timeout = "5s"`,
			timeouts{5 * time.Second, 5 * time.Second, 60 * time.Second, 5 * time.Second}},
		{"header_timeout alone", `
  header_timeout = "10s"`,
			timeouts{0, 10 * time.Second, 60 * time.Second, 10 * time.Second}},
		{"long body_idle_timeout for a slow stream", `
  body_idle_timeout = "2h"`,
			timeouts{0, 30 * time.Second, 2 * time.Hour, 30 * time.Second}},
		{"header_timeout shorter than a written response_timeout", `
  response_timeout  = "2m"
  header_timeout    = "15s"
  body_idle_timeout = "30s"`,
			timeouts{2 * time.Minute, 15 * time.Second, 30 * time.Second, 15 * time.Second}},
		{"header_timeout and body_idle_timeout equal to response_timeout", `
  response_timeout  = "1m"
  header_timeout    = "1m"
  body_idle_timeout = "1m"`,
			timeouts{time.Minute, time.Minute, time.Minute, time.Minute}},
		{"per_try_timeout under header_timeout", `
  header_timeout = "10s"
  retry {
    per_try_timeout = "2s"
  }`,
			timeouts{0, 10 * time.Second, 60 * time.Second, 2 * time.Second}},
		{"per_try_timeout equal to the default header_timeout", `
  retry {
    per_try_timeout = "30s"
  }`,
			timeouts{0, 30 * time.Second, 60 * time.Second, 30 * time.Second}},
		{"per_try_timeout equal to a header_timeout defaulted from response_timeout", `
  response_timeout = "3s"
  retry {
    per_try_timeout = "3s"
  }`,
			timeouts{3 * time.Second, 3 * time.Second, 60 * time.Second, 3 * time.Second}},
		{"per_try_timeout over response_timeout's old default is fine once header_timeout allows it", `
  header_timeout = "45s"
  retry {
    per_try_timeout = "45s"
  }`,
			timeouts{0, 45 * time.Second, 60 * time.Second, 45 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parsePool(t, strings.TrimPrefix(tt.body, "\n"))
			got := timeouts{p.ResponseTimeout, p.HeaderTimeout, p.BodyIdleTimeout, p.EffectivePerTryTimeout()}
			if got != tt.want {
				t.Errorf("response, header, body idle, per try = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestBodyIdleTimeoutOverResponseTimeout: a written body_idle_timeout
// that response_timeout makes unreachable is a warning at its value, and
// the file still loads.
func TestBodyIdleTimeoutOverResponseTimeout(t *testing.T) {
	src := `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  response_timeout  = "30s"
  body_idle_timeout = "2m"
  backend "127.0.0.1:9001" {}
}
`
	cfg, diags := Parse([]byte(src), "lb.hcl")
	d := mustOneDiag(t, diags)
	if cfg == nil {
		t.Fatalf("Parse returned no Config for a file with only a warning")
	}
	if d.Severity != hcl.DiagWarning {
		t.Errorf("severity = %v, want warning", d.Severity)
	}
	want := `lb.hcl:7,23-27: Body idle timeout longer than response timeout; body_idle_timeout (2m0s) can never be reached: response_timeout (30s) at line 6 cuts the whole answer first. Make body_idle_timeout at most 30s, or remove response_timeout for no limit on the whole answer (as a streaming pool should).`
	if d.Error() != want {
		t.Errorf("got  %s\nwant %s", d.Error(), want)
	}
	if p := cfg.Pool("p"); p.BodyIdleTimeout != 2*time.Minute || p.ResponseTimeout != 30*time.Second {
		t.Errorf("BodyIdleTimeout, ResponseTimeout = %s, %s; want 2m, 30s as written", p.BodyIdleTimeout, p.ResponseTimeout)
	}
}

// TestDefaultBodyIdleTimeoutOverResponseTimeoutIsQuiet: an older file
// whose response_timeout is below the body_idle_timeout default gets no
// warning; it did not write body_idle_timeout, so there is nothing to fix.
func TestDefaultBodyIdleTimeoutOverResponseTimeoutIsQuiet(t *testing.T) {
	p := parsePool(t, `  response_timeout = "10s"`)
	if p.BodyIdleTimeout != DefaultBodyIdleTimeout {
		t.Errorf("BodyIdleTimeout = %s, want the default %s", p.BodyIdleTimeout, DefaultBodyIdleTimeout)
	}
}
