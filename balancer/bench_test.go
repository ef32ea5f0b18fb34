package balancer_test

import (
	"strconv"
	"testing"

	"github.com/lbtrust/lb/balancer"
)

var benchSizes = []int{3, 100, 10_000}

// benchTargets returns n targets with weights cycling 1, 2, 3 (so the
// weighted code paths run; the smooth schedule for n = 10,000 has 20,000
// entries) and in-flight counts between 1 and 13 (nobody idle, so
// least_conn scans the whole snapshot: its worst case).
func benchTargets(n int) []balancer.Target {
	ws := make([]int, n)
	for i := range ws {
		ws[i] = 1 + i%3
	}
	ts, fs := newTargets(ws...)
	for i, f := range fs {
		f.inflight.Store(int64(1 + (i*7919)%13))
	}
	return ts
}

func BenchmarkPick(b *testing.B) {
	for _, name := range balancer.Names() {
		for _, n := range benchSizes {
			b.Run(name+"/"+strconv.Itoa(n), func(b *testing.B) {
				pk := mustNew(b, name).NewPicker(benchTargets(n))
				b.ReportAllocs()
				sink := 0
				for b.Loop() {
					sink += pk.Pick()
				}
				_ = sink
			})
		}
	}
}

// BenchmarkPickParallel shows the cost of the shared atomic cursor (or of
// its absence) when every core picks at once.
func BenchmarkPickParallel(b *testing.B) {
	for _, name := range balancer.Names() {
		for _, n := range benchSizes {
			b.Run(name+"/"+strconv.Itoa(n), func(b *testing.B) {
				pk := mustNew(b, name).NewPicker(benchTargets(n))
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					sink := 0
					for pb.Next() {
						sink += pk.Pick()
					}
					_ = sink
				})
			})
		}
	}
}

// BenchmarkNewPicker is the cost paid, under the pool's lock, on every
// change of the eligible set.
func BenchmarkNewPicker(b *testing.B) {
	for _, name := range balancer.Names() {
		for _, n := range benchSizes {
			b.Run(name+"/"+strconv.Itoa(n), func(b *testing.B) {
				policy := mustNew(b, name)
				ts := benchTargets(n)
				b.ReportAllocs()
				for b.Loop() {
					policy.NewPicker(ts)
				}
			})
		}
	}
}
