package config

import (
	"strings"
	"testing"
	"time"
)

// fleetHead opens a file whose fleet block is a test's body: the block
// starts on line 8.
const fleetHead = `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "web"
}
pool "web" {
  backend "127.0.0.1:9001" {}
}
`

func TestFleetValues(t *testing.T) {
	f := newDiscoveryFixture(t)
	tests := []struct {
		name string
		body string
		want Fleet // Etcd compared by endpoints and prefix
	}{
		{
			name: "defaults",
			body: `fleet {
  etcd {
    endpoints = ["127.0.0.1:2379"]
    prefix    = "/lb/fleet/prod/"
  }
}`,
			want: Fleet{Replicas: DefaultFleetReplicas, TTL: DefaultFleetTTL},
		},
		{
			name: "every setting",
			body: `fleet {
  member   = "lb-1"
  replicas = 3
  ttl      = "10s"
  etcd {
    endpoints     = ["127.0.0.1:2379"]
    prefix        = "/lb/fleet/prod/"
    username      = "lb"
    password_file = "etcd.pass"
  }
}`,
			want: Fleet{Member: "lb-1", Replicas: 3, TTL: 10 * time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, diags := f.load(t, fleetHead+tt.body+"\n")
			if diags.HasErrors() {
				t.Fatalf("unexpected diagnostics: %v", diags)
			}
			got := cfg.Fleet
			if got == nil || got.Etcd == nil {
				t.Fatalf("no fleet block decoded: %+v", got)
			}
			if got.Member != tt.want.Member || got.Replicas != tt.want.Replicas || got.TTL != tt.want.TTL {
				t.Errorf("fleet = member %q replicas %d ttl %s, want %q %d %s",
					got.Member, got.Replicas, got.TTL, tt.want.Member, tt.want.Replicas, tt.want.TTL)
			}
			if got.Etcd.Prefix != "/lb/fleet/prod/" || len(got.Etcd.Endpoints) != 1 {
				t.Errorf("fleet etcd = %+v", got.Etcd)
			}
			if got.DeclRange.Start.Line != 8 {
				t.Errorf("DeclRange line %d, want 8", got.DeclRange.Start.Line)
			}
		})
	}
}

func TestFleetDiagnostics(t *testing.T) {
	f := newDiscoveryFixture(t)
	tests := []struct {
		name      string
		body      string
		summary   string // substring of the summary
		detail    string // substring of the detail
		line, col int
	}{
		{
			name:    "no etcd block",
			body:    "fleet {\n  member = \"lb-1\"\n}",
			summary: "Missing etcd block", detail: "etcd { endpoints", line: 8, col: 1,
		},
		{
			name:    "no prefix",
			body:    "fleet {\n  etcd {\n    endpoints = [\"127.0.0.1:2379\"]\n  }\n}",
			summary: "Missing required argument", detail: "fleet's etcd block has no prefix", line: 8, col: 1,
		},
		{
			name:    "no endpoints",
			body:    "fleet {\n  etcd {\n    prefix = \"/lb/fleet/\"\n  }\n}",
			summary: "Missing required argument", detail: "endpoints", line: 8, col: 1,
		},
		{
			name:    "member with a slash",
			body:    "fleet {\n  member = \"lb/1\"\n  etcd {\n    endpoints = [\"127.0.0.1:2379\"]\n    prefix = \"/f/\"\n  }\n}",
			summary: "Invalid member name", detail: `such as "lb-1"`, line: 9, col: 12,
		},
		{
			name:    "empty member",
			body:    "fleet {\n  member = \"\"\n  etcd {\n    endpoints = [\"127.0.0.1:2379\"]\n    prefix = \"/f/\"\n  }\n}",
			summary: "Empty value", detail: "member must not be empty", line: 9, col: 12,
		},
		{
			name:    "no replicas",
			body:    "fleet {\n  replicas = 0\n  etcd {\n    endpoints = [\"127.0.0.1:2379\"]\n    prefix = \"/f/\"\n  }\n}",
			summary: "Value out of range", detail: "replicas must be at least 1", line: 9, col: 14,
		},
		{
			name:    "ttl not whole seconds",
			body:    "fleet {\n  ttl = \"1500ms\"\n  etcd {\n    endpoints = [\"127.0.0.1:2379\"]\n    prefix = \"/f/\"\n  }\n}",
			summary: "Invalid fleet ttl", detail: "whole number of seconds", line: 9, col: 9,
		},
		{
			name:    "ttl below a second",
			body:    "fleet {\n  ttl = \"500ms\"\n  etcd {\n    endpoints = [\"127.0.0.1:2379\"]\n    prefix = \"/f/\"\n  }\n}",
			summary: "Invalid fleet ttl", detail: "at least 1s", line: 9, col: 9,
		},
		{
			name:    "password file missing",
			body:    "fleet {\n  etcd {\n    endpoints = [\"127.0.0.1:2379\"]\n    prefix = \"/f/\"\n    username = \"lb\"\n    password_file = \"nope.pass\"\n  }\n}",
			summary: "Cannot read password file", detail: "nope.pass", line: 13, col: 21,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := f.load(t, fleetHead+tt.body+"\n")
			for _, d := range diags {
				if strings.Contains(d.Summary, tt.summary) && strings.Contains(d.Detail, tt.detail) {
					if d.Subject.Start.Line != tt.line || d.Subject.Start.Column != tt.col {
						t.Errorf("%q at %d,%d, want %d,%d", d.Summary, d.Subject.Start.Line, d.Subject.Start.Column, tt.line, tt.col)
					}
					return
				}
			}
			t.Errorf("no diagnostic %q / %q among %v", tt.summary, tt.detail, diags)
		})
	}
}

func TestFleetEqual(t *testing.T) {
	f := newDiscoveryFixture(t)
	load := func(body string) *Fleet {
		t.Helper()
		cfg, diags := f.load(t, fleetHead+body+"\n")
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		return cfg.Fleet
	}
	base := "fleet {\n  member = \"a\"\n  etcd {\n    endpoints = [\"127.0.0.1:2379\"]\n    prefix = \"/f/\"\n  }\n}"
	a, b := load(base), load("\n\n"+base) // moved only
	if !a.Equal(b) {
		t.Error("the same block declared elsewhere is not Equal")
	}
	for _, changed := range []string{
		strings.Replace(base, `"a"`, `"b"`, 1),
		strings.Replace(base, "member", "replicas = 3\n  member", 1),
		strings.Replace(base, "member", "ttl = \"9s\"\n  member", 1),
		strings.Replace(base, `"/f/"`, `"/g/"`, 1),
	} {
		if a.Equal(load(changed)) {
			t.Errorf("changed block is Equal:\n%s", changed)
		}
	}
	var none *Fleet
	if a.Equal(none) || !none.Equal(nil) {
		t.Error("nil compares wrong")
	}
}
