// Package pooltest builds pools for other packages' tests and benchmarks.
// For tests only.
package pooltest

import (
	"strconv"
	"testing"
	"time"

	"github.com/lbtrust/lb/balancer"
	"github.com/lbtrust/lb/pool"
)

// Healthy returns a round-robin pool "web" of n HEALTHY backends at
// 127.0.0.1:10000, :10001, ... (nothing listens there and nothing dials:
// each is made HEALTHY by one passing check result of 1.5ms). The caller
// closes it.
func Healthy(tb testing.TB, n int) *pool.Pool {
	tb.Helper()
	pol, err := balancer.New(balancer.RoundRobin)
	if err != nil {
		tb.Fatal(err)
	}
	p := pool.New(pool.Options{Name: "web", Policy: pol, Thresholds: pool.Thresholds{Healthy: 1, Unhealthy: 1}})
	for i := range n {
		b, _, err := p.Add("127.0.0.1:"+strconv.Itoa(10_000+i), 1)
		if err != nil {
			tb.Fatal(err)
		}
		b.ObserveCheck(pool.CheckResult{Outcome: pool.ReasonCheckPassed, Code: 200, Latency: 1500 * time.Microsecond})
	}
	return p
}
