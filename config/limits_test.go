package config

import (
	"strings"
	"testing"
	"time"
)

// limitsSrc is a one-listener file with attrs inside the listener block.
func limitsSrc(attrs string) string {
	return "listener \"l\" {\n  address = \"127.0.0.1:8080\"\n  pool    = \"p\"\n" + attrs +
		"}\npool \"p\" {\n  backend \"127.0.0.1:9001\" {}\n}\n"
}

func TestListenerLimits(t *testing.T) {
	type limits struct {
		read, header, body           time.Duration
		hdrBytes, hdrCount, uri, con int
	}
	def := limits{30 * time.Second, 10 * time.Second, 30 * time.Second, 16384, 100, 8192, 10000}
	tests := []struct {
		name  string
		attrs string
		want  limits
	}{
		{"defaults", "", def},
		{"all written", `  read_timeout        = "1m"
  read_header_timeout = "5s"
  body_read_timeout   = "50s"
  max_header_bytes    = 32768
  max_header_count    = 50
  max_uri_length      = 4096
  max_connections     = 500
`, limits{time.Minute, 5 * time.Second, 50 * time.Second, 32768, 50, 4096, 500}},
		{"short read_timeout lowers the header and body defaults", `  read_timeout = "4s"
`, limits{4 * time.Second, 4 * time.Second, 4 * time.Second, 16384, 100, 8192, 10000}},
		{"long read_timeout raises only the body default", `  read_timeout = "2m"
`, limits{2 * time.Minute, 10 * time.Second, 2 * time.Minute, 16384, 100, 8192, 10000}},
		{"small max_header_bytes lowers the uri default", `  max_header_bytes = 4096
`, limits{30 * time.Second, 10 * time.Second, 30 * time.Second, 4096, 100, 4096, 10000}},
		{"bounds are allowed", `  max_header_bytes = 1024
  max_header_count = 1
  max_uri_length   = 1
  max_connections  = 1
`, limits{30 * time.Second, 10 * time.Second, 30 * time.Second, 1024, 1, 1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags := Parse([]byte(limitsSrc(tc.attrs)), "t.hcl")
			mustNoDiags(t, diags)
			l := cfg.Listener("l")
			got := limits{l.ReadTimeout, l.ReadHeaderTimeout, l.BodyReadTimeout,
				l.MaxHeaderBytes, l.MaxHeaderCount, l.MaxURILength, l.MaxConnections}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestListenerLimitDiagnostics(t *testing.T) {
	tests := []struct {
		name, attr      string
		summary, detail string
	}{
		{"header timeout over read_timeout", `read_header_timeout = "31s"`, "Timeout longer than read_timeout", "at most 30s"},
		{"body timeout over read_timeout", `body_read_timeout = "1m"`, "Timeout longer than read_timeout", "body_read_timeout"},
		{"header timeout zero", `read_header_timeout = "0s"`, "Invalid duration", "longer than zero"},
		{"body timeout not a duration", `body_read_timeout = "soon"`, "Invalid duration", "not a duration"},
		{"header bytes too small", `max_header_bytes = 512`, "Value out of range", "1024..1048576"},
		{"header bytes too large", `max_header_bytes = 2000000`, "Value out of range", "max_header_bytes"},
		{"header count zero", `max_header_count = 0`, "Value out of range", "1..10000"},
		{"uri zero", `max_uri_length = 0`, "Value out of range", "at least 1"},
		{"uri over header bytes", `max_uri_length = 20000`, "Value out of range", "max_header_bytes (16384)"},
		{"connections zero", `max_connections = 0`, "Value out of range", "1..1000000"},
		{"connections not a number", `max_connections = true`, "Unsuitable value type", "number required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := Parse([]byte(limitsSrc("  "+tc.attr+"\n")), "t.hcl")
			d := mustOneDiag(t, diags)
			if !strings.Contains(d.Summary, tc.summary) || !strings.Contains(d.Detail, tc.detail) {
				t.Errorf("got %q / %q, want summary %q, detail containing %q", d.Summary, d.Detail, tc.summary, tc.detail)
			}
			// The attribute is on line 4; the diagnostic points at its value.
			col := strings.Index(tc.attr, "=") + 2 + 3
			if d.Subject == nil || d.Subject.Filename != "t.hcl" || d.Subject.Start.Line != 4 || d.Subject.Start.Column != col {
				t.Errorf("subject %v, want t.hcl:4,%d", d.Subject, col)
			}
		})
	}
}
