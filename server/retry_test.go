package server

import (
	"slices"
	"testing"
	"time"

	"github.com/lbtrust/lb/config"
)

// TestRetryPolicyFromConfig: a retry block reaches the proxy as written,
// a pool without one gets config's defaults, and every condition config
// accepts is one the proxy knows.
func TestRetryPolicyFromConfig(t *testing.T) {
	cfg := mustParse(t, `
listener "public" {
  address = "127.0.0.1:0"
  pool    = "web"
}
pool "web" {
  response_timeout = "5s"
  retry {
    attempts        = 2
    per_try_timeout = "300ms"
    on              = ["connect_failure", "reset", "timeout", "503"]
    budget_percent  = 10
  }
  backend "127.0.0.1:1" {}
}
pool "plain" {
  backend "127.0.0.1:2" {}
}
`)
	web, err := retryPolicy(cfg.Pools[0])
	if err != nil {
		t.Fatal(err)
	}
	if web.Attempts() != 2 || web.PerTryTimeout() != 300*time.Millisecond || web.BudgetPercent() != 10 ||
		!slices.Equal(web.On(), []string{"connect_failure", "reset", "timeout", "503"}) {
		t.Errorf("web: attempts %d, per-try %s, budget %d%%, on %v", web.Attempts(), web.PerTryTimeout(), web.BudgetPercent(), web.On())
	}
	plain, err := retryPolicy(cfg.Pools[1])
	if err != nil {
		t.Fatal(err)
	}
	if plain.Attempts() != config.DefaultRetryAttempts || plain.PerTryTimeout() != 0 ||
		plain.BudgetPercent() != config.DefaultRetryBudgetPercent || !slices.Equal(plain.On(), config.DefaultRetryConditions()) {
		t.Errorf("plain: attempts %d, per-try %s, budget %d%%, on %v", plain.Attempts(), plain.PerTryTimeout(), plain.BudgetPercent(), plain.On())
	}

	all := &config.Pool{Name: "all", Retry: config.Retry{Attempts: 1, On: config.RetryConditions(), BudgetPercent: 20}}
	p, err := retryPolicy(all)
	if err != nil {
		t.Fatalf("a condition config accepts is unknown to the proxy: %v", err)
	}
	if !slices.Equal(p.On(), config.RetryConditions()) {
		t.Errorf("on %v, want %v", p.On(), config.RetryConditions())
	}
}
