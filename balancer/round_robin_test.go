package balancer_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/lbtrust/lb/balancer"
)

func TestRoundRobinExactlyEven(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 100} {
		ts, _ := newTargets(repeat(1, n)...)
		pk := mustNew(t, balancer.RoundRobin).NewPicker(ts)
		for i, c := range pickN(t, pk, n, n*50) {
			if c != 50 {
				t.Fatalf("n=%d: index %d picked %d times, want 50", n, i, c)
			}
		}
	}
}

func TestRoundRobinIgnoresWeights(t *testing.T) {
	ts, _ := newTargets(5, 1, 1)
	pk := mustNew(t, balancer.RoundRobin).NewPicker(ts)
	var got []int
	for range 6 {
		got = append(got, pk.Pick(balancer.NoKey))
	}
	if want := []int{0, 1, 2, 0, 1, 2}; !slices.Equal(got, want) {
		t.Fatalf("sequence %v, want %v", got, want)
	}
}

func TestRoundRobinCursorSurvivesSnapshots(t *testing.T) {
	p := mustNew(t, balancer.RoundRobin)
	ts, _ := newTargets(1, 1, 1)
	first := p.NewPicker(ts)
	if a, b := first.Pick(balancer.NoKey), first.Pick(balancer.NoKey); a != 0 || b != 1 {
		t.Fatalf("first picks %d, %d; want 0, 1", a, b)
	}
	if got := p.NewPicker(ts).Pick(balancer.NoKey); got != 2 {
		t.Fatalf("after a snapshot change Pick() = %d, want 2 (rotation continues)", got)
	}
	// Each pool's Policy has its own cursor.
	if got := mustNew(t, balancer.RoundRobin).NewPicker(ts).Pick(balancer.NoKey); got != 0 {
		t.Fatalf("a fresh Policy starts at %d, want 0", got)
	}
}

// TestRoundRobinExactlyEvenConcurrently: the atomic cursor hands out every
// value once, so even racing goroutines split the load exactly.
func TestRoundRobinExactlyEvenConcurrently(t *testing.T) {
	const n, goroutines, picks = 5, 8, 1000
	ts, _ := newTargets(repeat(1, n)...)
	pk := mustNew(t, balancer.RoundRobin).NewPicker(ts)
	totals := exactCountsConcurrently(t, pk, n, goroutines, picks)
	for i, c := range totals {
		if c != goroutines*picks/n {
			t.Fatalf("index %d picked %d times, want %d", i, c, goroutines*picks/n)
		}
	}
}

// exactCountsConcurrently picks from several goroutines and sums the counts.
func exactCountsConcurrently(t *testing.T, pk balancer.Picker, n, goroutines, picks int) []int {
	t.Helper()
	var mu sync.Mutex
	totals := make([]int, n)
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			local := make([]int, n)
			for range picks {
				local[pk.Pick(balancer.NoKey)]++
			}
			mu.Lock()
			for i, c := range local {
				totals[i] += c
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	return totals
}
