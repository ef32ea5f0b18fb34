package balancer_test

import (
	"strconv"
	"testing"

	"github.com/lbtrust/lb/balancer"
)

// benchSizes are the snapshot sizes every policy is measured (and its
// allocations pinned, see TestPickAllocatesNothingAtScale) at: a small
// pool, a large one, and issue 14's 10,000.
var benchSizes = []int{3, 100, 10_000}

// benchWeights are the two weight shapes: all equal (the common case, and
// the fast paths of weighted_round_robin, random, least_conn and
// power_of_two), and weights cycling 1, 2, 3 (the weighted code paths;
// the smooth schedule for 10,000 such targets has 20,000 entries).
var benchWeights = []struct {
	name string
	of   func(i int) int
}{
	{"uniform", func(int) int { return 1 }},
	{"weighted", func(i int) int { return 1 + i%3 }},
}

// benchTargets returns n targets weighted by weight and in-flight counts
// between 1 and 13 (nobody idle, so an exact least_conn scan cannot stop
// early: its worst case).
func benchTargets(n int, weight func(int) int) ([]balancer.Target, []*fakeTarget) {
	ws := make([]int, n)
	for i := range ws {
		ws[i] = weight(i)
	}
	ts, fs := newTargets(ws...)
	for i, f := range fs {
		f.inflight.Store(int64(1 + (i*7919)%13))
	}
	return ts, fs
}

// forEachBench runs fn as a sub-benchmark policy/weights/size for every
// combination.
func forEachBench(b *testing.B, fn func(b *testing.B, name string, ts []balancer.Target, fs []*fakeTarget)) {
	for _, name := range balancer.Names() {
		for _, w := range benchWeights {
			for _, n := range benchSizes {
				b.Run(name+"/"+w.name+"/"+strconv.Itoa(n), func(b *testing.B) {
					ts, fs := benchTargets(n, w.of)
					fn(b, name, ts, fs)
				})
			}
		}
	}
}

// BenchmarkPick is one goroutine picking, counts fixed.
func BenchmarkPick(b *testing.B) {
	forEachBench(b, func(b *testing.B, name string, ts []balancer.Target, _ []*fakeTarget) {
		pk := mustNew(b, name).NewPicker(ts)
		b.ReportAllocs()
		sink := 0
		for b.Loop() {
			sink += pk.Pick(balancer.NoKey)
		}
		_ = sink
	})
}

// BenchmarkPickParallel shows the cost of the shared atomic cursor (or of
// its absence) when every core picks at once, and the picked target's
// in-flight count moves as the pool moves it (up at Acquire, down at
// Release), so the counters the load-aware policies read are being
// written by other cores.
func BenchmarkPickParallel(b *testing.B) {
	forEachBench(b, func(b *testing.B, name string, ts []balancer.Target, fs []*fakeTarget) {
		pk := mustNew(b, name).NewPicker(ts)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				f := fs[pk.Pick(balancer.NoKey)]
				f.inflight.Add(1)
				f.inflight.Add(-1)
			}
		})
	})
}

// BenchmarkNewPicker is the cost paid, under the pool's lock, on every
// change of the eligible set (the pool's whole rebuild, this included, is
// pool's BenchmarkEligibilityChange).
func BenchmarkNewPicker(b *testing.B) {
	forEachBench(b, func(b *testing.B, name string, ts []balancer.Target, _ []*fakeTarget) {
		policy := mustNew(b, name)
		b.ReportAllocs()
		for b.Loop() {
			policy.NewPicker(ts)
		}
	})
}

// BenchmarkNewPickerDistinctWeights is weighted_round_robin's rebuild at
// its most expensive: many distinct weights (the first min(n, 256)
// targets weigh 1..256, the rest 1), so the smooth schedule has many
// weight classes to compare at every one of its entries.
func BenchmarkNewPickerDistinctWeights(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			ts, _ := benchTargets(n, func(i int) int {
				if i < 256 {
					return 1 + i
				}
				return 1
			})
			policy := mustNew(b, balancer.WeightedRoundRobin)
			b.ReportAllocs()
			for b.Loop() {
				policy.NewPicker(ts)
			}
		})
	}
}
