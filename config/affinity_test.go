package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// affinityPool wraps a pool body into a whole file; the pool's first body
// line is line 6.
func affinityPool(body string) string {
	return `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "web"
}
pool "web" {
` + body + `
  backend "127.0.0.1:9001" {}
}
`
}

// TestHashBlockDecodes: the key sources and load_factor, and the defaults
// with and without a block.
func TestHashBlockDecodes(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		source     string
		keyName    string
		loadFactor float64
	}{
		{"no block", `  algorithm = "consistent_hash"`, HashKeyClientIP, "", DefaultLoadFactor},
		{"empty block", "  algorithm = \"consistent_hash\"\n  hash {}", HashKeyClientIP, "", DefaultLoadFactor},
		{"header", "  algorithm = \"consistent_hash\"\n  hash {\n    key = \"header:X-User\"\n  }", HashKeyHeader, "X-User", DefaultLoadFactor},
		{"cookie", "  algorithm = \"consistent_hash\"\n  hash {\n    key = \"cookie:session\"\n  }", HashKeyCookie, "session", DefaultLoadFactor},
		{"query", "  algorithm = \"consistent_hash\"\n  hash {\n    key = \"query:id\"\n  }", HashKeyQuery, "id", DefaultLoadFactor},
		{"path", "  algorithm = \"consistent_hash\"\n  hash {\n    key = \"path\"\n  }", HashKeyPath, "", DefaultLoadFactor},
		{"client_ip and load factor", "  algorithm = \"consistent_hash\"\n  hash {\n    key = \"client_ip\"\n    load_factor = 2\n  }", HashKeyClientIP, "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, diags := Parse([]byte(affinityPool(tt.body)), "lb.hcl")
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			h := cfg.Pools[0].Hash
			if h.Source != tt.source || h.Name != tt.keyName || h.LoadFactor != tt.loadFactor {
				t.Fatalf("hash = %+v, want %s:%s load factor %v", h, tt.source, tt.keyName, tt.loadFactor)
			}
			if cfg.Pools[0].Algorithm != AlgorithmConsistentHash {
				t.Fatalf("algorithm %q", cfg.Pools[0].Algorithm)
			}
		})
	}
}

// TestStickyBlockDecodes: defaults, written values, a key file.
func TestStickyBlockDecodes(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sticky.key"), []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, diags := Parse([]byte(affinityPool("  sticky {}")), "lb.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	s := cfg.Pools[0].Sticky
	if s == nil || s.Cookie != "lb_web" || s.TTL != 0 || s.Key != "" {
		t.Fatalf("defaults: %+v", s)
	}
	src := affinityPool("  sticky {\n    cookie = \"srv\"\n    ttl = \"1h\"\n    key_file = \"sticky.key\"\n  }")
	cfg, diags = Parse([]byte(src), filepath.Join(dir, "lb.hcl"))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	s = cfg.Pools[0].Sticky
	if s.Cookie != "srv" || s.TTL != time.Hour || string(s.Key) != "0123456789abcdef0123456789abcdef" || s.KeyFile != "sticky.key" {
		t.Fatalf("written: %+v", s)
	}
	if s.Key.String() != "[redacted]" {
		t.Fatal("the key prints")
	}
	cfg, _ = Parse([]byte(affinityPool("")), "lb.hcl")
	if cfg.Pools[0].Sticky != nil {
		t.Fatal("sticky without a block")
	}
}

// TestAffinityDiagnostics: one mistake each, positioned.
func TestAffinityDiagnostics(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "short.key"), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		body      string
		summary   string
		detail    string
		line, col int
	}{
		{"hash block under round robin", "  algorithm = \"round_robin\"\n  hash {\n    key = \"path\"\n  }",
			"Hash block without consistent hashing", `algorithm = "consistent_hash"`, 7, 3},
		{"hash block without algorithm", "  hash {\n    key = \"path\"\n  }",
			"Hash block without consistent hashing", `"round_robin"`, 6, 3},
		{"unknown key source", "  algorithm = \"consistent_hash\"\n  hash {\n    key = \"source_ip\"\n  }",
			"Invalid hash key", `"header:NAME"`, 8, 11},
		{"header without a name", "  algorithm = \"consistent_hash\"\n  hash {\n    key = \"header:\"\n  }",
			"Invalid hash key", `key = "header:"`, 8, 11},
		{"header name not a token", "  algorithm = \"consistent_hash\"\n  hash {\n    key = \"header:X User\"\n  }",
			"Invalid hash key", "tokens", 8, 11},
		{"path with a name", "  algorithm = \"consistent_hash\"\n  hash {\n    key = \"path:x\"\n  }",
			"Invalid hash key", "", 8, 11},
		{"load factor 1", "  algorithm = \"consistent_hash\"\n  hash {\n    load_factor = 1\n  }",
			"Value out of range", "above 1", 8, 19},
		{"load factor huge", "  algorithm = \"consistent_hash\"\n  hash {\n    load_factor = 1000\n  }",
			"Value out of range", "at most 100", 8, 19},
		{"load factor a string", "  algorithm = \"consistent_hash\"\n  hash {\n    load_factor = \"high\"\n  }",
			"Unsuitable value type", "", 8, 20},
		{"unknown hash attribute", "  algorithm = \"consistent_hash\"\n  hash {\n    header = \"X\"\n  }",
			"Unsupported argument", "", 8, 5},
		{"cookie name not a token", "  sticky {\n    cookie = \"my cookie\"\n  }",
			"Invalid cookie name", "HTTP token", 7, 14},
		{"ttl under a second", "  sticky {\n    ttl = \"500ms\"\n  }",
			"Value out of range", `"1s"`, 7, 11},
		{"negative ttl", "  sticky {\n    ttl = \"-1h\"\n  }",
			"Invalid duration", "", 7, 11},
		{"missing key file", "  sticky {\n    key_file = \"nope.key\"\n  }",
			"Cannot read key file", "key_file must name", 7, 16},
		{"short key file", "  sticky {\n    key_file = \"short.key\"\n  }",
			"Key file too short", "at least 16", 7, 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, diags := Parse([]byte(affinityPool(tt.body)), filepath.Join(dir, "lb.hcl"))
			if cfg != nil {
				t.Errorf("Parse returned a Config along with errors")
			}
			d := mustOneDiag(t, diags)
			if d.Severity != hcl.DiagError {
				t.Errorf("severity = %v, want error", d.Severity)
			}
			if !strings.Contains(d.Summary, tt.summary) {
				t.Errorf("summary = %q, want it to contain %q", d.Summary, tt.summary)
			}
			if d.Detail == "" || !strings.Contains(d.Detail, tt.detail) {
				t.Errorf("detail = %q, want it to contain %q", d.Detail, tt.detail)
			}
			if d.Subject == nil {
				t.Fatalf("diagnostic has no subject: %s; %s", d.Summary, d.Detail)
			}
			if d.Subject.Start.Line != tt.line || d.Subject.Start.Column != tt.col {
				t.Errorf("at %s, want line %d column %d", d.Subject, tt.line, tt.col)
			}
		})
	}
}

// TestAffinityExample: examples/affinity.hcl shows a hashing pool and a
// sticky one, and loads clean.
func TestAffinityExample(t *testing.T) {
	cfg, diags := Load(filepath.Join("..", "examples", "affinity.hcl"))
	mustNoDiags(t, diags)
	if c := cfg.Pool("cache"); c == nil || c.Algorithm != AlgorithmConsistentHash || c.Hash.Key() != "header:X-User" {
		t.Errorf("pool cache: %+v", c)
	}
	if a := cfg.Pool("app"); a == nil || a.Sticky == nil || a.Sticky.Cookie != "lb_app" || a.Sticky.TTL != time.Hour {
		t.Errorf("pool app: %+v", a)
	}
}
