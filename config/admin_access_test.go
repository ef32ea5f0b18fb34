package config

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

func TestAdminAccessDiagnostics(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.token")
	if err := os.WriteFile(empty, []byte("\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	spaced := filepath.Join(dir, "spaced.token")
	if err := os.WriteFile(spaced, []byte("two words\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.token")
	tests := []struct {
		name      string
		body      string
		summary   string
		detail    string
		line, col int
	}{
		{
			name: "token and token_file both set",
			body: `  token      = "abc"
  token_file = "/etc/lb/admin.token"`,
			summary: "Conflicting admin token", detail: "token at line 3", line: 4, col: 16,
		},
		{
			name: "token_file before token, still pointed at token_file",
			body: `  token_file = "/etc/lb/admin.token"
  token      = "abc"`,
			summary: "Conflicting admin token", detail: "token at line 4", line: 3, col: 16,
		},
		{
			name:    "unreadable token_file",
			body:    fmt.Sprintf(`  token_file = %q`, missing),
			summary: "Cannot read token file", detail: "no such file or directory", line: 3, col: 16,
		},
		{
			name:    "token_file is a directory",
			body:    fmt.Sprintf(`  token_file = %q`, dir),
			summary: "Cannot read token file", detail: "is a directory", line: 3, col: 16,
		},
		{
			name:    "token_file is a device",
			body:    `  token_file = "/dev/zero"`,
			summary: "Cannot read token file", detail: "not a regular file", line: 3, col: 16,
		},
		{
			name:    "empty token_file",
			body:    fmt.Sprintf(`  token_file = %q`, empty),
			summary: "Empty token file", detail: "holds no token", line: 3, col: 16,
		},
		{
			name:    "token_file with a space inside",
			body:    fmt.Sprintf(`  token_file = %q`, spaced),
			summary: "Invalid admin token", detail: "at byte 4", line: 3, col: 16,
		},
		{
			name:    "empty token_file path",
			body:    `  token_file = ""`,
			summary: "Empty value", detail: "token_file must not be empty", line: 3, col: 16,
		},
		{
			name:    "empty token",
			body:    `  token = ""`,
			summary: "Empty value", detail: "token must not be empty", line: 3, col: 11,
		},
		{
			name:    "token with a space",
			body:    `  token = "my token"`,
			summary: "Invalid admin token", detail: "visible ASCII", line: 3, col: 11,
		},
		{
			name:    "token not a string",
			body:    `  token = ["a"]`,
			summary: "Unsuitable value type", line: 3, col: 11,
		},
		{
			name:    "event_buffer 0",
			body:    `  event_buffer = 0`,
			summary: "Value out of range", detail: "event_buffer must be in 1..1000000; it is 0", line: 3, col: 18,
		},
		{
			name:    "event_buffer negative",
			body:    `  event_buffer = -5`,
			summary: "Value out of range", detail: "event_buffer must be in 1..1000000", line: 3, col: 18,
		},
		{
			name:    "event_buffer too large",
			body:    `  event_buffer = 2000000`,
			summary: "Value out of range", detail: "it is 2000000", line: 3, col: 18,
		},
		{
			name:    "event_buffer as a string",
			body:    `  event_buffer = "lots"`,
			summary: "Unsuitable value type", line: 3, col: 19, // inside the quotes, as hcl points
		},
		{
			name:    "pprof not a bool",
			body:    `  pprof = "yes please"`,
			summary: "Unsuitable value type", line: 3, col: 12,
		},
		{
			name:    "ready_pools unknown",
			body:    `  ready_pools = "all"`,
			summary: "Unknown ready_pools value", detail: `ready_pools = "all" is not one of every, any, none`, line: 3, col: 17,
		},
		{
			name:    "ready_pools a bool",
			body:    `  ready_pools = true`,
			summary: "Unknown ready_pools value", detail: `"true" is not one of`, line: 3, col: 17,
		},
		{
			name:    "ready_pools a list",
			body:    `  ready_pools = ["web"]`,
			summary: "Unsuitable value type", line: 3, col: 17,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, diags := Parse([]byte(adminFile(tt.body)), "lb.hcl")
			if cfg != nil {
				t.Errorf("Parse returned a Config along with errors")
			}
			d := mustOneDiag(t, diags)
			if d.Severity != hcl.DiagError || !strings.Contains(d.Summary, tt.summary) || !strings.Contains(d.Detail, tt.detail) {
				t.Errorf("got %s; want summary %q, detail containing %q", d.Error(), tt.summary, tt.detail)
			}
			if d.Subject == nil || d.Subject.Filename != "lb.hcl" || d.Subject.Start.Line != tt.line || d.Subject.Start.Column != tt.col {
				t.Errorf("at %v, want lb.hcl line %d column %d", d.Subject, tt.line, tt.col)
			}
			if strings.Contains(d.Error(), "two words") || strings.Contains(d.Error(), "my token") {
				t.Errorf("the diagnostic quotes the token: %s", d.Error())
			}
		})
	}
}

func TestAdminAccessValues(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "admin.token"), []byte("from-a-file\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		body   string
		token  string
		buffer int
		pprof  bool
		ready  string // ready_pools; "" for the default
	}{
		{name: "defaults", token: "", buffer: DefaultEventBuffer},
		{name: "ready_pools every", body: `  ready_pools = "every"`, buffer: DefaultEventBuffer, ready: ReadyPoolsEvery},
		{name: "ready_pools any", body: `  ready_pools = "any"`, buffer: DefaultEventBuffer, ready: ReadyPoolsAny},
		{name: "ready_pools none", body: `  ready_pools = "none"`, buffer: DefaultEventBuffer, ready: ReadyPoolsNone},
		{name: "pprof on", body: `  pprof = true`, buffer: DefaultEventBuffer, pprof: true},
		{name: "pprof off", body: `  pprof = false`, buffer: DefaultEventBuffer},
		{name: "token", body: `  token = "abc.DEF-123_~+/="`, token: "abc.DEF-123_~+/=", buffer: DefaultEventBuffer},
		{name: "event_buffer", body: `  event_buffer = 50`, buffer: 50},
		{name: "event_buffer 1", body: `  event_buffer = 1`, buffer: 1},
		{
			name:  "token_file absolute, trailing newline trimmed",
			body:  fmt.Sprintf(`  token_file = %q`, filepath.Join(dir, "admin.token")),
			token: "from-a-file", buffer: DefaultEventBuffer,
		},
		{
			name:  "token_file relative to the configuration file",
			body:  `  token_file = "admin.token"`,
			token: "from-a-file", buffer: DefaultEventBuffer,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, diags := Parse([]byte(adminFile(tt.body)), filepath.Join(dir, "lb.hcl"))
			mustNoDiags(t, diags)
			if got := string(cfg.Admin.Token); got != tt.token {
				t.Errorf("Token = %q, want %q", got, tt.token)
			}
			if cfg.Admin.EventBuffer != tt.buffer {
				t.Errorf("EventBuffer = %d, want %d", cfg.Admin.EventBuffer, tt.buffer)
			}
			if cfg.Admin.Pprof != tt.pprof {
				t.Errorf("Pprof = %v, want %v", cfg.Admin.Pprof, tt.pprof)
			}
			if want := cmp.Or(tt.ready, DefaultReadyPools); cfg.Admin.ReadyPools != want {
				t.Errorf("ReadyPools = %q, want %q", cfg.Admin.ReadyPools, want)
			}
		})
	}
}

// TestLoadReadsTokenFileNextToConfig: Load, as the binary uses it, takes
// a relative token_file from the configuration file's directory.
func TestLoadReadsTokenFileNextToConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "t"), []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "lb.hcl")
	if err := os.WriteFile(path, []byte(adminFile(`  token_file = "t"`)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, diags := Load(path)
	mustNoDiags(t, diags)
	if cfg.Admin.Token != "tok" {
		t.Errorf("Token = %q", string(cfg.Admin.Token))
	}
}

func TestSecretIsRedacted(t *testing.T) {
	a := &Admin{Address: "127.0.0.1:9901", Token: "hunter2"}
	j, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		fmt.Sprint(a.Token), fmt.Sprintf("%v %s %q %#v", a.Token, a.Token, a.Token, a.Token),
		fmt.Sprintf("%+v", *a), fmt.Sprintf("%#v", *a), fmt.Sprintf("%+v", a), string(j),
	} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("the token shows: %s", s)
		}
		if !strings.Contains(s, "[redacted]") {
			t.Errorf("no [redacted] marker: %s", s)
		}
	}
	if Secret("").String() != "" {
		t.Error("an empty Secret prints as something")
	}
}
