package config

import (
	"math"
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

func TestEffectivePerTryTimeout(t *testing.T) {
	p := &Pool{HeaderTimeout: 20 * time.Second, ResponseTimeout: 40 * time.Second}
	if got := p.EffectivePerTryTimeout(); got != 20*time.Second {
		t.Errorf("unset per_try_timeout: got %s, want the header_timeout, 20s", got)
	}
	p.Retry.PerTryTimeout = 300 * time.Millisecond
	if got := p.EffectivePerTryTimeout(); got != 300*time.Millisecond {
		t.Errorf("per_try_timeout 300ms: got %s", got)
	}
}

func TestEffectiveSilentAfter(t *testing.T) {
	tests := []struct {
		name        string
		silentAfter time.Duration
		p99         time.Duration
		want        time.Duration
		on          bool
	}{
		{"auto, 8 × p99", SilentAfterAuto, 10 * time.Millisecond, 80 * time.Millisecond, true},
		{"auto, floor for a fast pool", SilentAfterAuto, time.Millisecond, 25 * time.Millisecond, true},
		{"auto, floor exactly", SilentAfterAuto, 3125 * time.Microsecond, 25 * time.Millisecond, true},
		{"auto, no latency known yet", SilentAfterAuto, 0, SilentAfterFloor, true},
		{"auto, slow API", SilentAfterAuto, 2 * time.Second, 16 * time.Second, true},
		{"auto, p99 too large to multiply", SilentAfterAuto, math.MaxInt64 / 4, math.MaxInt64, true},
		{"fixed ignores p99", 200 * time.Millisecond, time.Second, 200 * time.Millisecond, true},
		{"off", SilentAfterOff, 10 * time.Millisecond, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Pool{SilentAfter: tt.silentAfter}
			got, on := p.EffectiveSilentAfter(tt.p99)
			if got != tt.want || on != tt.on {
				t.Errorf("EffectiveSilentAfter(%s) = %s, %t; want %s, %t", tt.p99, got, on, tt.want, tt.on)
			}
		})
	}
	p := &Pool{}
	if n := testing.AllocsPerRun(100, func() { p.EffectiveSilentAfter(time.Millisecond) }); n != 0 {
		t.Errorf("EffectiveSilentAfter allocates %v times", n)
	}
}

func TestRetriesOn(t *testing.T) {
	tests := []struct {
		on       []string
		code     int
		want     bool
		retryStr string // a condition RetriesOn should report
	}{
		{on: []string{"connect_failure", "reset"}, code: 503, want: false, retryStr: "reset"},
		{on: []string{"503"}, code: 503, want: true},
		{on: []string{"503"}, code: 502, want: false},
		{on: []string{"502", "504"}, code: 504, want: true},
		{on: []string{"5xx"}, code: 500, want: true},
		{on: []string{"5xx"}, code: 599, want: true},
		{on: []string{"5xx"}, code: 499, want: false},
		{on: []string{"5xx"}, code: 600, want: false},
		{on: []string{"timeout", "5xx"}, code: 200, want: false, retryStr: "timeout"},
	}
	for _, tt := range tests {
		r := &Retry{On: tt.on}
		if got := r.RetriesOnStatus(tt.code); got != tt.want {
			t.Errorf("On %q: RetriesOnStatus(%d) = %t, want %t", tt.on, tt.code, got, tt.want)
		}
		if tt.retryStr != "" && !r.RetriesOn(tt.retryStr) {
			t.Errorf("On %q: RetriesOn(%q) = false", tt.on, tt.retryStr)
		}
	}
	if (&Retry{On: []string{"5xx"}}).RetriesOn(RetryOn503) {
		t.Errorf(`RetriesOn("503") with On ["5xx"] = true; it tests membership only`)
	}
	r := &Retry{On: RetryConditions()}
	if n := testing.AllocsPerRun(100, func() { r.RetriesOnStatus(504) }); n != 0 {
		t.Errorf("RetriesOnStatus allocates %v times", n)
	}
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
