package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// parsePool parses a file with one pool "p" whose body, before its one
// backend, is body, and returns that pool.
func parsePool(t *testing.T, body string) *Pool {
	t.Helper()
	src := `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
` + body + `
  backend "127.0.0.1:9001" {}
}
`
	cfg, diags := Parse([]byte(src), "lb.hcl")
	mustNoDiags(t, diags)
	return cfg.Pool("p")
}

// TestResilienceValues holds valid request-path settings, edge values
// included, and what they decode to.
func TestResilienceValues(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, p *Pool)
	}{
		{"attempts 0 turns retries off; other retry defaults stay", `
  retry {
    attempts = 0
  }`, func(t *testing.T, p *Pool) {
			want := Retry{Attempts: 0, On: []string{"connect_failure", "reset"}, BudgetPercent: 20, DeclRange: p.Retry.DeclRange}
			if !reflect.DeepEqual(p.Retry, want) {
				t.Errorf("Retry = %+v, want %+v", p.Retry, want)
			}
			if r := p.Retry.DeclRange; r.Start.Line != 6 || r.Start.Column != 3 {
				t.Errorf("retry declared at %s, want line 6 column 3", r)
			}
		}},
		{"upper bounds: attempts 10, budget 100, per_try_timeout equal to the header_timeout response_timeout gives", `
  response_timeout = "2s"
  retry {
    attempts        = 10
    per_try_timeout = "2s"
    budget_percent  = 100
  }`, func(t *testing.T, p *Pool) {
			if p.Retry.Attempts != 10 || p.Retry.BudgetPercent != 100 || p.Retry.PerTryTimeout != 2*time.Second {
				t.Errorf("Retry = %+v", p.Retry)
			}
		}},
		{"budget 0, every condition, numbers written bare", `
  retry {
    budget_percent = 0
    on             = ["connect_failure", "reset", "timeout", 502, "503", 504, "5xx"]
  }`, func(t *testing.T, p *Pool) {
			if p.Retry.BudgetPercent != 0 {
				t.Errorf("BudgetPercent = %d, want 0", p.Retry.BudgetPercent)
			}
			if !reflect.DeepEqual(p.Retry.On, RetryConditions()) {
				t.Errorf("On = %q, want %q", p.Retry.On, RetryConditions())
			}
		}},
		{"passive off keeps its other settings", `
  passive {
    enabled             = false
    max_ejected_percent = 0
    base_ejection       = "30s"
    max_ejection        = "30s"
  }`, func(t *testing.T, p *Pool) {
			want := Passive{
				Enabled: false, ConsecutiveFailures: 5, ConsecutiveTimeouts: 2,
				BaseEjection: 30 * time.Second, MaxEjection: 30 * time.Second, MaxEjectedPercent: 0,
				DeclRange: p.Passive.DeclRange,
			}
			if !reflect.DeepEqual(p.Passive, want) {
				t.Errorf("Passive = %+v, want %+v", p.Passive, want)
			}
		}},
		{"empty passive block is every default", `
  passive {}`, func(t *testing.T, p *Pool) {
			want := defaultPassive()
			want.DeclRange = p.Passive.DeclRange
			if !reflect.DeepEqual(p.Passive, want) || !p.Passive.Enabled {
				t.Errorf("Passive = %+v, want %+v", p.Passive, want)
			}
		}},
		{"fail_closed turns panic routing off by default", `
  when_all_unhealthy = "fail_closed"`, func(t *testing.T, p *Pool) {
			if p.WhenAllUnhealthy != WhenAllUnhealthyFailClosed || p.PanicThreshold != 0 {
				t.Errorf("WhenAllUnhealthy, PanicThreshold = %q, %d; want fail_closed, 0", p.WhenAllUnhealthy, p.PanicThreshold)
			}
		}},
		{"fail_closed with panic_threshold 0 written", `
  when_all_unhealthy = "fail_closed"
  panic_threshold    = 0`, func(t *testing.T, p *Pool) {
			if p.PanicThreshold != 0 {
				t.Errorf("PanicThreshold = %d, want 0", p.PanicThreshold)
			}
		}},
		{"fail_open written, panic_threshold 100", `
  when_all_unhealthy = "fail_open"
  panic_threshold    = 100`, func(t *testing.T, p *Pool) {
			if p.WhenAllUnhealthy != "fail_open" || p.PanicThreshold != 100 {
				t.Errorf("WhenAllUnhealthy, PanicThreshold = %q, %d; want fail_open, 100", p.WhenAllUnhealthy, p.PanicThreshold)
			}
		}},
		{"slow_start 0s is off", `
  slow_start = "0s"`, func(t *testing.T, p *Pool) {
			if p.SlowStart != 0 {
				t.Errorf("SlowStart = %s, want 0s", p.SlowStart)
			}
		}},
		{"silent_after auto", `
  silent_after = "auto"`, func(t *testing.T, p *Pool) {
			if p.SilentAfter != SilentAfterAuto {
				t.Errorf("SilentAfter = %s, want SilentAfterAuto", p.SilentAfter)
			}
		}},
		{"silent_after off", `
  silent_after = "off"`, func(t *testing.T, p *Pool) {
			if p.SilentAfter != SilentAfterOff {
				t.Errorf("SilentAfter = %s, want SilentAfterOff", p.SilentAfter)
			}
		}},
		{"silent_after below the auto floor is the operator's choice", `
  silent_after = "5ms"`, func(t *testing.T, p *Pool) {
			if p.SilentAfter != 5*time.Millisecond {
				t.Errorf("SilentAfter = %s, want 5ms", p.SilentAfter)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The pool block starts on line 5, so body line 1 is line 6.
			p := parsePool(t, strings.TrimPrefix(tt.body, "\n"))
			tt.check(t, p)
		})
	}
}

// TestResilienceMistakesInOnePass checks that several mistakes in the new
// settings of one pool are all reported, in file order.
func TestResilienceMistakesInOnePass(t *testing.T) {
	src := `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  silent_after = "soon"
  retry {
    attempts = 20
    on       = ["reset", "gone"]
  }
  passive {
    base_ejection = "1m"
    max_ejection  = "30s"
  }
  backend "127.0.0.1:9001" {}
}
`
	cfg, diags := Parse([]byte(src), "lb.hcl")
	if cfg != nil {
		t.Errorf("Parse returned a Config along with errors")
	}
	want := []string{
		`lb.hcl:6,18-24: Invalid silent_after; `,
		`lb.hcl:8,16-18: Value out of range; `,
		`lb.hcl:9,26-32: Unknown retry condition; `,
		`lb.hcl:13,21-26: Ejection cap shorter than base; `,
	}
	mustDiagPrefixes(t, diags, want)
}

func TestResilienceListsAreFresh(t *testing.T) {
	for name, f := range map[string]func() []string{
		"RetryConditions":        RetryConditions,
		"DefaultRetryConditions": DefaultRetryConditions,
		"WhenAllUnhealthyModes":  WhenAllUnhealthyModes,
	} {
		a := f()
		first := a[0]
		a[0] = "changed"
		if f()[0] != first {
			t.Errorf("%s shares its slice with callers", name)
		}
	}
	// A pool without a retry block must not share the default list
	// either.
	cfg, diags := Parse([]byte(`listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`), "lb.hcl")
	mustNoDiags(t, diags)
	cfg.Pools[0].Retry.On[0] = "changed"
	if DefaultRetryConditions()[0] != RetryOnConnectFailure {
		t.Errorf("a pool's Retry.On shares the default list")
	}
}
