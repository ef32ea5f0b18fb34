package config

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// TestPoolAnswerTimeouts holds valid header_timeout, body_idle_timeout
// and response_timeout settings and what they decode to (with
// per_try_timeout, 0 when not written: the proxy then bounds a try by
// header_timeout), including a file written before header_timeout
// existed.
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
			timeouts{0, 30 * time.Second, 60 * time.Second, 0}},
		{"old config with only response_timeout: the header may take all of it", `
  response_timeout = "60s"`,
			timeouts{60 * time.Second, 60 * time.Second, 60 * time.Second, 0}},
		{"short response_timeout alone lowers the header default, not body_idle_timeout", `
  response_timeout = "5s"`,
			timeouts{5 * time.Second, 5 * time.Second, 60 * time.Second, 0}},
		{"header_timeout alone", `
  header_timeout = "10s"`,
			timeouts{0, 10 * time.Second, 60 * time.Second, 0}},
		{"long body_idle_timeout for a slow stream", `
  body_idle_timeout = "2h"`,
			timeouts{0, 30 * time.Second, 2 * time.Hour, 0}},
		{"header_timeout shorter than a written response_timeout", `
  response_timeout  = "2m"
  header_timeout    = "15s"
  body_idle_timeout = "30s"`,
			timeouts{2 * time.Minute, 15 * time.Second, 30 * time.Second, 0}},
		{"header_timeout and body_idle_timeout equal to response_timeout", `
  response_timeout  = "1m"
  header_timeout    = "1m"
  body_idle_timeout = "1m"`,
			timeouts{time.Minute, time.Minute, time.Minute, 0}},
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
			got := timeouts{p.ResponseTimeout, p.HeaderTimeout, p.BodyIdleTimeout, p.Retry.PerTryTimeout}
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

// TestStreamingMistakesInOnePass: mistakes in the new settings of a
// listener and a pool are all reported, in file order, with a warning
// among the errors.
func TestStreamingMistakesInOnePass(t *testing.T) {
	src := `listener "l" {
  address               = "127.0.0.1:8080"
  pool                  = "p"
  max_request_body_size = 4096
  request_buffer_size   = 8192
}
pool "p" {
  response_timeout  = "10s"
  header_timeout    = "20s"
  body_idle_timeout = "30s"
  retry {
    per_try_timeout = "25s"
  }
  backend "127.0.0.1:9001" {}
}
`
	cfg, diags := Parse([]byte(src), "lb.hcl")
	if cfg != nil {
		t.Errorf("Parse returned a Config along with errors")
	}
	want := []string{
		`lb.hcl:5,27-31: Value out of range; request_buffer_size = 8192 can never fill: a body larger than max_request_body_size (4096) at line 4 is refused with 413 first. Make it at most 4096, or raise max_request_body_size to at least 8192.`,
		`lb.hcl:9,23-28: Header timeout longer than response timeout; header_timeout (20s) is longer than response_timeout (10s) at line 8`,
		`lb.hcl:10,23-28: Body idle timeout longer than response timeout; `,
		`lb.hcl:12,23-28: Per-try timeout longer than header timeout; per_try_timeout (25s) is longer than the pool's header_timeout (20s), `,
	}
	mustDiagPrefixes(t, diags, want)
	for i, d := range diags {
		if warn := i == 2; (d.Severity == hcl.DiagWarning) != warn {
			t.Errorf("diagnostic %d severity %v, want warning=%v", i, d.Severity, warn)
		}
	}
}

func TestRequestBufferSize(t *testing.T) {
	tests := []struct {
		name  string
		attrs string
		want  int
	}{
		{"default", "", 16384},
		{"written above the default", "  request_buffer_size = 65536\n", 65536},
		{"the minimum", "  request_buffer_size = 1024\n", 1024},
		{"equal to the default max_request_body_size", "  request_buffer_size = 10485760\n", 10485760},
		{"equal to a written max_request_body_size", "  max_request_body_size = 32768\n  request_buffer_size   = 32768\n", 32768},
		{"a small max_request_body_size lowers the default", "  max_request_body_size = 4096\n", 4096},
		{"a tiny max_request_body_size is the default, no error", "  max_request_body_size = 100\n", 100},
		{"max_request_body_size equal to the default buffer", "  max_request_body_size = 16384\n", 16384},
		{"a large max_request_body_size leaves the default", "  max_request_body_size = 104857600\n", 16384},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags := Parse([]byte(limitsSrc(tc.attrs)), "t.hcl")
			mustNoDiags(t, diags)
			if got := cfg.Listener("l").RequestBufferSize; got != tc.want {
				t.Errorf("RequestBufferSize = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestRequestBufferSizeDiagnostics: each input has one mistake, reported
// once at the value of request_buffer_size (or of the setting it depends
// on), naming both settings when they clash.
func TestRequestBufferSizeDiagnostics(t *testing.T) {
	tests := []struct {
		name   string
		attrs  string // listener lines after address and pool, which end on line 3
		want   string // whole Error() text, or its prefix when prefix is set
		prefix bool
	}{
		{"below the minimum", "  request_buffer_size = 512\n",
			`t.hcl:4,25-28: Value out of range; request_buffer_size must be at least 1024; it is 512. Remove it to use the default, 16384.`, false},
		{"below the minimum names a lowered default", "  max_request_body_size = 4096\n  request_buffer_size   = 0\n",
			`t.hcl:5,27-28: Value out of range; request_buffer_size must be at least 1024; it is 0. Remove it to use the default, 4096.`, false},
		{"over the default max_request_body_size", "  request_buffer_size = 20000000\n",
			`t.hcl:4,25-33: Value out of range; request_buffer_size = 20000000 can never fill: a body larger than the default max_request_body_size (10485760) is refused with 413 first. Make it at most 10485760, or raise max_request_body_size to at least 20000000.`, false},
		{"over a written max_request_body_size", "  max_request_body_size = 4096\n  request_buffer_size   = 8192\n",
			`t.hcl:5,27-31: Value out of range; request_buffer_size = 8192 can never fill: a body larger than max_request_body_size (4096) at line 4 is refused with 413 first. Make it at most 4096, or raise max_request_body_size to at least 8192.`, false},
		{"over a max_request_body_size written after it", "  request_buffer_size   = 65536\n  max_request_body_size = 32768\n",
			`t.hcl:4,27-32: Value out of range; request_buffer_size = 65536 can never fill: a body larger than max_request_body_size (32768) at line 5 is refused`, true},
		{"over a max_request_body_size below the minimum", "  max_request_body_size = 512\n  request_buffer_size   = 2048\n",
			`t.hcl:5,27-31: Value out of range; request_buffer_size = 2048 can never fill: a body larger than max_request_body_size (512) at line 4 is refused with 413 first. Remove it (with max_request_body_size under 1024 every body is read whole), or raise max_request_body_size to at least 2048.`, false},
		{"invalid max_request_body_size is reported alone", "  max_request_body_size = 0\n  request_buffer_size   = 20000000\n",
			`t.hcl:4,27-28: Value out of range; max_request_body_size must be at least 1`, true},
		{"not a number", "  request_buffer_size = \"16k\"\n",
			`t.hcl:4,26-29: Unsuitable value type; `, true},
		{"a bool", "  request_buffer_size = true\n",
			`t.hcl:4,25-29: Unsuitable value type; `, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags := Parse([]byte(limitsSrc(tc.attrs)), "t.hcl")
			if cfg != nil {
				t.Errorf("Parse returned a Config along with errors")
			}
			d := mustOneDiag(t, diags)
			if d.Severity != hcl.DiagError {
				t.Errorf("severity = %v, want error", d.Severity)
			}
			got := d.Error()
			if tc.prefix && !strings.HasPrefix(got, tc.want) || !tc.prefix && got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
