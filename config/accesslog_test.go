package config

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// accessLogFile is a minimal file whose listener holds the given
// access_log block body, starting on line 4.
func accessLogFile(body string) string {
	return `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
  access_log {
` + body + `
  }
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`
}

// TestAccessLogDecode: what each access_log block decodes to.
func TestAccessLogDecode(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		body string
		want AccessLog
	}{
		{"empty block: stdout json, all lines", ``,
			AccessLog{Output: "stdout", Format: "json", Sample2xx: 1, Buffer: 1024}},
		{"stderr combined", `output = "stderr"
format = "combined"`, AccessLog{Output: "stderr", Format: "combined", Sample2xx: 1, Buffer: 1024}},
		{"file, sampled", `output = "access.log"
sample_2xx = 0.25
buffer = 64`, AccessLog{Output: filepath.Join(dir, "access.log"), Format: "json", Sample2xx: 0.25, Buffer: 64}},
		{"absolute path", `output = "` + filepath.Join(dir, "a.log") + `"
sample_2xx = 0`, AccessLog{Output: filepath.Join(dir, "a.log"), Format: "json", Sample2xx: 0, Buffer: 1024}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, diags := Parse([]byte(accessLogFile(tt.body)), filepath.Join(dir, "lb.hcl"))
			mustNoDiags(t, diags)
			got := cfg.Listeners[0].AccessLog
			if got == nil {
				t.Fatal("no AccessLog")
			}
			got.DeclRange = hcl.Range{}
			if *got != tt.want {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
	cfg, diags := Parse([]byte(`listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`), "lb.hcl")
	mustNoDiags(t, diags)
	if cfg.Listeners[0].AccessLog != nil {
		t.Error("no block, yet an AccessLog")
	}
}

// TestAccessLogDiagnostics: one mistake per block, each reported once at
// its value.
func TestAccessLogDiagnostics(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		summary   string
		detail    string
		line, col int
	}{
		{"unknown format", `    format = "common"`, "Invalid access log format", `"combined"`, 5, 14},
		{"sample over 1", `    sample_2xx = 1.5`, "Value out of range", "0..1", 5, 18},
		{"sample negative", `    sample_2xx = -0.1`, "Value out of range", "0..1", 5, 18},
		{"sample not a number", `    sample_2xx = "half"`, "Unsuitable value type", "", 5, 19},
		{"buffer too small", `    buffer = 1`, "Value out of range", "16..1048576", 5, 14},
		{"empty output", `    output = ""`, "Empty value", "output", 5, 14},
		{"unknown attribute", `    path = "x.log"`, "Unsupported argument", "", 5, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, diags := Parse([]byte(accessLogFile(tt.body)), "lb.hcl")
			if cfg != nil {
				t.Errorf("Parse returned a Config along with errors")
			}
			d := mustOneDiag(t, diags)
			if !strings.Contains(d.Summary, tt.summary) {
				t.Errorf("summary = %q, want %q", d.Summary, tt.summary)
			}
			if !strings.Contains(d.Detail, tt.detail) {
				t.Errorf("detail = %q, want it to contain %q", d.Detail, tt.detail)
			}
			if d.Subject == nil || d.Subject.Start.Line != tt.line || d.Subject.Start.Column != tt.col {
				t.Errorf("at %v, want line %d column %d", d.Subject, tt.line, tt.col)
			}
		})
	}
}

// TestAccessLogMissingDirectory: a file in a directory that does not
// exist is a warning at the value (the LB's start fails on it).
func TestAccessLogMissingDirectory(t *testing.T) {
	cfg, diags := Parse([]byte(accessLogFile(`    output = "/nonexistent-lb-dir/access.log"`)), "lb.hcl")
	d := mustOneDiag(t, diags)
	if cfg == nil || d.Severity != hcl.DiagWarning || d.Summary != "Access log directory missing" {
		t.Fatalf("got %v: %s", d.Severity, d.Error())
	}
	if d.Subject.Start.Line != 5 || d.Subject.Start.Column != 14 {
		t.Errorf("at %v", d.Subject)
	}
}
