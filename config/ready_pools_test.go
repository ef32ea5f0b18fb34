package config

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

func TestReadyPools(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{name: "default", want: ReadyPoolsEvery},
		{name: "every", body: `  ready_pools = "every"`, want: ReadyPoolsEvery},
		{name: "any", body: `  ready_pools = "any"`, want: ReadyPoolsAny},
		{name: "none", body: `  ready_pools = "none"`, want: ReadyPoolsNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseAdmin(t, tt.body).Admin.ReadyPools; got != tt.want {
				t.Errorf("ReadyPools = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadyPoolsDiagnostics(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		summary   string
		detail    string
		line, col int
	}{
		{
			name:    "unknown value",
			body:    `  ready_pools = "all"`,
			summary: "Unknown ready_pools value", detail: `ready_pools = "all" is not one of every, any, none`, line: 3, col: 17,
		},
		{
			name:    "not a string",
			body:    `  ready_pools = true`,
			summary: "Unknown ready_pools value", detail: `"true" is not one of`, line: 3, col: 17,
		},
		{
			name:    "a list",
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
		})
	}
}
