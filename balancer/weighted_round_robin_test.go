package balancer_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/lbtrust/lb/balancer"
)

// nginxSmooth is NGINX's smooth weighted round robin, verbatim: the
// reference the lock-free picker must reproduce.
func nginxSmooth(weights []int, picks int) []int {
	total := 0
	for _, w := range weights {
		total += w
	}
	current := make([]int, len(weights))
	seq := make([]int, picks)
	for k := range seq {
		best := -1
		for i, w := range weights {
			current[i] += w
			if best < 0 || current[i] > current[best] {
				best = i
			}
		}
		current[best] -= total
		seq[k] = best
	}
	return seq
}

func picks(pk balancer.Picker, n int) []int {
	seq := make([]int, n)
	for i := range seq {
		seq[i] = pk.Pick(balancer.NoKey)
	}
	return seq
}

func TestWeightedRoundRobinNginxSequence(t *testing.T) {
	ts, _ := newTargets(5, 1, 1)
	pk := mustNew(t, balancer.WeightedRoundRobin).NewPicker(ts)
	var b strings.Builder
	for _, i := range picks(pk, 21) {
		b.WriteByte("abc"[i])
	}
	if got, want := b.String(), strings.Repeat("aabacaa", 3); got != want {
		t.Fatalf("sequence %s, want %s", got, want)
	}
}

func TestWeightedRoundRobinExactPerCycle(t *testing.T) {
	tests := []struct {
		name    string
		weights []int
		cycle   int // sum(weights)/gcd(weights)
	}{
		{"5,1,1", []int{5, 1, 1}, 7},
		{"gcd reduced", []int{10, 2, 2}, 7},
		{"1,2", []int{1, 2}, 3},
		{"primes", []int{2, 3, 5, 7}, 17},
		{"heavy", []int{100, 1}, 101},
		{"equal", []int{4, 4, 4}, 3},
		{"duplicate weights", []int{3, 1, 3, 1, 2}, 10},
		{"many", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 55},
		{"fallback", []int{100_000, 1, 70_001}, 170_002},
		// 5,050 entries × 100 distinct weights is over the build budget
		// (maxScheduleWork): the stride fallback, exact per cycle too.
		{"fallback: many distinct weights", ascending(100), 5050},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, _ := newTargets(tt.weights...)
			pk := mustNew(t, balancer.WeightedRoundRobin).NewPicker(ts)
			g := sumInts(tt.weights) / tt.cycle // the weights' gcd
			for cycle := range 3 {
				counts := pickN(t, pk, len(ts), tt.cycle)
				for i, c := range counts {
					if want := tt.weights[i] / g; c != want {
						t.Fatalf("cycle %d: index %d picked %d times, want %d (all %v)", cycle, i, c, want, counts)
					}
				}
			}
		})
	}
}

// ascending returns 1, 2, ..., n.
func ascending(n int) []int {
	ws := make([]int, n)
	for i := range ws {
		ws[i] = i + 1
	}
	return ws
}

func sumInts(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}

// TestWeightedRoundRobinMatchesNginx compares the precomputed schedule with
// the reference algorithm over random weight sets, duplicates included.
func TestWeightedRoundRobinMatchesNginx(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		n := 1 + r.IntN(20)
		maxW := 1 + r.IntN(50)
		weights := make([]int, n)
		for i := range weights {
			weights[i] = 1 + r.IntN(maxW)
		}
		if r.IntN(4) == 0 { // scale, to exercise gcd reduction
			for i := range weights {
				weights[i] *= 6
			}
		}
		ts, _ := newTargets(weights...)
		pk := mustNew(t, balancer.WeightedRoundRobin).NewPicker(ts)
		total := sumInts(weights)
		if got, want := picks(pk, 2*total), nginxSmooth(weights, 2*total); !slices.Equal(got, want) {
			t.Fatalf("weights %v:\n got %v\nwant %v", weights, got, want)
		}
	}
}

func TestWeightedRoundRobinEqualWeightsIsRoundRobin(t *testing.T) {
	ts, _ := newTargets(3, 3, 3, 3)
	pk := mustNew(t, balancer.WeightedRoundRobin).NewPicker(ts)
	if got, want := picks(pk, 8), []int{0, 1, 2, 3, 0, 1, 2, 3}; !slices.Equal(got, want) {
		t.Fatalf("sequence %v, want %v", got, want)
	}
}

// TestWeightedRoundRobinFallbackSpreads: past the schedule cap the picks of
// a heavy target are still interleaved, not sent in one burst.
func TestWeightedRoundRobinFallbackSpreads(t *testing.T) {
	const light = 40_000
	weights := []int{3*light + 1, light} // cycle 160,001 > 65,536: fallback
	ts, _ := newTargets(weights...)
	pk := mustNew(t, balancer.WeightedRoundRobin).NewPicker(ts)
	seq := picks(pk, sumInts(weights))
	longest := [2]int{}
	run := 0
	for i := range seq {
		if i > 0 && seq[i] == seq[i-1] {
			run++
		} else {
			run = 1
		}
		longest[seq[i]] = max(longest[seq[i]], run)
	}
	// NGINX gives a a b a for 3:1: runs of 3 and 1.
	t.Logf("longest runs %v", longest)
	if longest[0] > 6 || longest[1] > 2 {
		t.Fatalf("longest runs %v for weights 3:1, want at most [6 2]", longest)
	}
}

func TestWeightedRoundRobinCursorSurvivesSnapshots(t *testing.T) {
	p := mustNew(t, balancer.WeightedRoundRobin)
	ts, _ := newTargets(5, 1, 1)
	first := picks(p.NewPicker(ts), 3) // a a b
	rest := picks(p.NewPicker(ts), 4)  // a c a a
	if got, want := append(first, rest...), []int{0, 0, 1, 0, 2, 0, 0}; !slices.Equal(got, want) {
		t.Fatalf("sequence across snapshots %v, want %v", got, want)
	}
}

func TestWeightedRoundRobinExactConcurrently(t *testing.T) {
	const goroutines, cycles = 8, 500
	weights := []int{5, 1, 1, 3}
	ts, _ := newTargets(weights...)
	pk := mustNew(t, balancer.WeightedRoundRobin).NewPicker(ts)
	totals := exactCountsConcurrently(t, pk, len(ts), goroutines, cycles*sumInts(weights))
	for i, c := range totals {
		if want := weights[i] * cycles * goroutines; c != want {
			t.Fatalf("index %d picked %d times, want %d", i, c, want)
		}
	}
}
