package server

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/lbtrust/lb/discovery"
	"github.com/lbtrust/lb/internal/freeport"
)

// BenchmarkDiscoveryApply1000 is the cost of applying one discovery update
// that changes one backend of a pool of 1,000 discovered backends (issue
// 15: "the cost of a watch update with 1,000 backends in the pool"): one
// sourceRuntime.Update, called directly with a prepared target list, as a
// source's goroutine calls it. It is a benchmark, not a test: no time is
// asserted. Run it with
//
//	go test -run x -bench DiscoveryApply1000 -benchmem ./server/
//
// The pool's only discovery block names an etcd endpoint nobody listens
// on; its source is stopped before the first update, so the benchmark
// alone delivers sets. The backends are HEALTHY (TCP checks, every 60s, to
// one listener that accepts and closes), as a serving pool's are. Each op
// hands Update a fresh copy of its list (the sink keeps the slice it is
// given), one allocation of the 1,000 targets that a source makes too;
// the update's own allocations are the rest.
//
//   - same: a set equal to the one in force (what every DNS refresh and
//     etcd resync delivers when nothing changed);
//   - weight: one backend's weight 1 -> 2, then back;
//   - replace: the last backend swapped for a new address, then back: one
//     backend drains (removed_from_discovery) and one is added INITIAL,
//     with its checker started (or revived while it still drains).
func BenchmarkDiscoveryApply1000(b *testing.B) {
	const n = 1000
	probe := probeListener(b)
	closed, err := freeport.Loopback(1)
	if err != nil {
		b.Fatal(err)
	}
	// Every 100ms until all are HEALTHY (a checker's first probe may come
	// up to one interval after it starts), then every 60s, so that checks
	// cost nothing while the updates are measured.
	src := func(interval string) string {
		return fmt.Sprintf(`listener "public" {
  address = "127.0.0.1:0"
  pool    = "web"
}
pool "web" {
  health_check {
    type     = "tcp"
    port     = %d
    interval = %q
    timeout  = "50ms"
  }
  discovery "etcd" {
    endpoints = [%q]
    prefix    = "/lb/pools/web/"
  }
}
`, probe, interval, closed[0])
	}
	lb := startLB(b, mustParseB(b, src("100ms")), Options{Version: "test"})
	lb.mu.Lock()
	s := lb.pools[0].sources[0]
	s.cancel()
	lb.mu.Unlock()
	lb.sourcesRunning.Wait()

	targets := func(change string) []discovery.Target {
		out := make([]discovery.Target, n)
		for i := range out {
			addr, weight := scaleBase+i, 1
			switch {
			case change == "weight" && i == 0:
				weight = 2
			case change == "replace" && i == n-1:
				addr = scaleBase + n
			}
			out[i] = discovery.Target{Address: fmt.Sprintf("127.0.0.1:%d", addr), Weight: weight}
		}
		return out
	}
	base := targets("")
	s.Update(slices.Clone(base))
	p := lb.Pools()[0]
	deadline := time.Now().Add(5 * time.Minute)
	for p.Eligible() < n {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d backends eligible after 5 minutes", p.Eligible(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The reload keeps the stopped source (its block is unchanged) and
	// the discovered backends with their state; it restarts their
	// checkers under the longer interval.
	if err := lb.Reload(mustParseB(b, src("60s"))); err != nil {
		b.Fatal(err)
	}
	lb.mu.Lock()
	kept := len(lb.pools[0].sources) == 1 && lb.pools[0].sources[0] == s && !s.stopped
	lb.mu.Unlock()
	if !kept {
		b.Fatal("the reload replaced the discovery source: the updates would be ignored")
	}
	if e := p.Eligible(); e != n {
		b.Fatalf("%d of %d backends eligible after the reload", e, n)
	}

	for _, change := range []string{"same", "weight", "replace"} {
		b.Run(change, func(b *testing.B) {
			sets := [2][]discovery.Target{targets(change), base}
			b.ReportAllocs()
			k := 0
			for b.Loop() {
				s.Update(slices.Clone(sets[k%2]))
				k++
			}
			b.StopTimer()
			if k%2 == 1 { // leave the pool as base has it
				s.Update(slices.Clone(base))
			}
		})
	}
}
