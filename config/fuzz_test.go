package config

import (
	"reflect"
	"testing"
)

// FuzzParse: any bytes give a config or diagnostics, never a panic, and a
// file that parses without errors parses the same way twice.
func FuzzParse(f *testing.F) {
	f.Add([]byte(minimalConfig))
	f.Add([]byte(discoveryConfig))
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, diags := Parse(src, "fuzz.hcl")
		if diags.HasErrors() {
			if cfg != nil {
				t.Fatalf("a config together with errors: %v", diags)
			}
			for _, d := range diags {
				if d.Summary == "" {
					t.Errorf("diagnostic without a summary: %+v", d)
				}
			}
			return
		}
		if cfg == nil {
			t.Fatalf("no config and no errors: %v", diags)
		}
		cfg2, diags2 := Parse(src, "fuzz.hcl")
		if diags2.HasErrors() || !reflect.DeepEqual(cfg, cfg2) {
			t.Fatalf("second parse differs: %v\n%+v\n%+v", diags2, cfg, cfg2)
		}
		if len(cfg.Listeners) == 0 {
			t.Errorf("a config without listeners")
		}
	})
}

// minimalConfig is the smallest valid file.
const minimalConfig = `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`

// discoveryConfig is a file whose pool finds its backends by discovery.
const discoveryConfig = `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  discovery "dns" {
    name     = "_http._tcp.web.internal"
    resolver = "127.0.0.1:8600"
    refresh  = "5s"
  }
  discovery "dns" {
    name = "web.internal"
    port = 8080
  }
  discovery "etcd" {
    endpoints = ["https://127.0.0.1:2379"]
    prefix    = "/lb/pools/p/"
  }
}
`

// FuzzParseStatusRanges: never a panic; every accepted range is within
// MinStatus..MaxStatus with Min <= Max, and an accepted value reads back
// the same from its String form.
func FuzzParseStatusRanges(f *testing.F) {
	for _, s := range []string{"200", "200-299", "200, 202 ,204-206", "599", "100-599"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := ParseStatusRanges(s)
		if err != nil {
			if rs != nil {
				t.Fatalf("ranges %v with error %v", rs, err)
			}
			return
		}
		if len(rs) == 0 {
			t.Fatalf("%q: no ranges and no error", s)
		}
		for _, r := range rs {
			if r.Min < MinStatus || r.Max > MaxStatus || r.Min > r.Max {
				t.Fatalf("%q: accepted range %+v", s, r)
			}
		}
		back, err := ParseStatusRanges(StatusRanges(rs).String())
		if err != nil || !reflect.DeepEqual(back, rs) {
			t.Fatalf("%q: String form %q reads back as %v, %v", s, StatusRanges(rs).String(), back, err)
		}
	})
}
