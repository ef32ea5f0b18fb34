package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/lbtrust/lb/balancer"
	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/fleet"
	"github.com/lbtrust/lb/healthcheck"
	"github.com/lbtrust/lb/pool"
	"go.uber.org/zap"
)

// BenchmarkFleetSweep is the fleet runtime's once-a-second look over
// every backend (fleetSweep), with 1,000 and 10,000 backends, every one
// healthy and owned by another member whose up verdict is known: the
// steady state of a fleet instance. Its cost per second of idle time is
// ns/op.
func BenchmarkFleetSweep(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			fr, err := newFleetRuntime(&config.Fleet{Member: "me", Replicas: 1, TTL: 5 * time.Second,
				Etcd: &config.EtcdDiscovery{Endpoints: []string{"127.0.0.1:1"}, Prefix: "/bench/"}}, zap.NewNop())
			if err != nil {
				b.Fatal(err)
			}
			policy, _ := balancer.New(balancer.RoundRobin)
			p := pool.New(pool.Options{Name: "web", Policy: policy, Thresholds: pool.Thresholds{Healthy: 1, Unhealthy: 1}})
			defer p.Close()
			fr.members = []string{"me", "other"}
			for i := range n {
				addr := fmt.Sprintf("10.0.%d.%d:80", i/250, i%250)
				be, _, err := p.Add(addr, 1)
				if err != nil {
					b.Fatal(err)
				}
				be.ObserveCheck(pool.CheckResult{Outcome: pool.ReasonCheckPassed})
				br := &backendRuntime{backend: be, spec: healthcheck.Spec{Interval: time.Second},
					fleet: &fleetBackend{target: fleet.Target{Pool: "web", Backend: addr}, backend: be, pool: p}}
				fr.register(br)
				// Owned, with its verdict published (no checker runs:
				// the runtime was never started).
				fr.m.Publish(fleet.Verdict{Target: br.fleet.target, State: fleet.StateUp, Reason: "check_passed"})
			}
			b.ReportAllocs()
			for b.Loop() {
				fr.sweep(time.Now())
			}
		})
	}
}
