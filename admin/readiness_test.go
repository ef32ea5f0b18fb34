package admin

import (
	"testing"

	"github.com/lbtrust/lb/balancer"
	"github.com/lbtrust/lb/pool"
)

// TestReadyzPoolRules: with two pools, one serving and one with no
// healthy backend, "every" is 503 and "any" and "none" 200; with none
// serving only "none" is 200. The failing pool's own check says "fail"
// under every rule, and SetReadyPools changes the rule for the next probe.
func TestReadyzPoolRules(t *testing.T) {
	pol, err := balancer.New("round_robin")
	if err != nil {
		t.Fatal(err)
	}
	web := pool.New(pool.Options{Name: "web", Policy: pol})
	webB, _, _ := web.Add("127.0.0.1:9", 1)
	api := pool.New(pool.Options{Name: "api", Policy: pol})
	api.Add("127.0.0.1:10", 1)
	h := New(Options{
		Pools:      func() []*pool.Pool { return []*pool.Pool{web, api} },
		ReadyPools: AnyPool,
	})
	addr := serveAdmin(t, h)

	probe := func(r PoolReadiness) (int, probeBody) {
		t.Helper()
		h.SetReadyPools(r)
		var body probeBody
		code := get(t, "http://"+addr+"/readyz", &body)
		if body.Checks["pool:api"].Status != "fail" {
			t.Errorf("ready_pools %s: pool:api check %+v, want fail (no healthy backend)", r, body.Checks["pool:api"])
		}
		return code, body
	}

	// No pool serves.
	for _, tt := range []struct {
		rule PoolReadiness
		code int
	}{{EveryPool, 503}, {AnyPool, 503}, {NoPool, 200}} {
		if code, body := probe(tt.rule); code != tt.code || body.Checks["pools"].Detail != `0 of 2 pools have a healthy backend; ready_pools = "`+tt.rule.String()+`"` {
			t.Errorf("no pool serving, ready_pools %s: %d %+v; want %d", tt.rule, code, body, tt.code)
		}
	}

	// web serves, api does not.
	webB.ObserveCheck(pool.CheckResult{Outcome: pool.ReasonCheckPassed, Code: 200})
	for _, tt := range []struct {
		rule   PoolReadiness
		code   int
		status string
	}{{EveryPool, 503, "degraded"}, {AnyPool, 200, "ok"}, {NoPool, 200, "ok"}} {
		code, body := probe(tt.rule)
		if code != tt.code || body.Status != tt.status || body.Checks["pool:web"].Status != "ok" {
			t.Errorf("one of two pools serving, ready_pools %s: %d %+v; want %d %s", tt.rule, code, body, tt.code, tt.status)
		}
	}

	// Shutting down fails readiness under every rule.
	h.SetShuttingDown()
	for _, r := range []PoolReadiness{EveryPool, AnyPool, NoPool} {
		if code, body := probe(r); code != 503 || body.Status != "shutting_down" {
			t.Errorf("shutting down, ready_pools %s: %d %+v; want 503 shutting_down", r, code, body)
		}
	}
}
