package balancer_test

import (
	"testing"

	"github.com/lbtrust/lb/balancer"
)

func TestPowerOfTwoSingle(t *testing.T) {
	ts, _ := newTargets(3)
	pk := mustNew(t, balancer.PowerOfTwo).NewPicker(ts)
	if c := pickN(t, pk, 1, 100); c[0] != 100 {
		t.Fatal("n == 1 must always pick 0")
	}
}

// TestPowerOfTwoDistinctPair: with two backends both are always drawn, so
// the less loaded one always wins.
func TestPowerOfTwoDistinctPair(t *testing.T) {
	tests := []struct {
		name    string
		weights []int
		loads   []int64
		want    int
	}{
		{"unweighted", []int{1, 1}, []int64{3, 1}, 1},
		{"weighted: 4/4 beats 3/1", []int{4, 1}, []int64{4, 3}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, fs := newTargets(tt.weights...)
			setLoads(fs, tt.loads...)
			pk := mustNew(t, balancer.PowerOfTwo).NewPicker(ts)
			if c := pickN(t, pk, 2, 1000); c[tt.want] != 1000 {
				t.Fatalf("picks %v, want all on %d", c, tt.want)
			}
		})
	}
}

func TestPowerOfTwoPrefersLessLoaded(t *testing.T) {
	const draws = 120_000
	// The idle backend wins whenever it is one of the two draws: 1 - C(3,2)/C(4,2) = 1/2.
	ts, fs := newTargets(1, 1, 1, 1)
	setLoads(fs, 100, 0, 100, 100)
	pk := mustNew(t, balancer.PowerOfTwo).NewPicker(ts)
	within(t, pickN(t, pk, 4, draws), []float64{draws / 6, draws / 2, draws / 6, draws / 6}, 0.10)

	// Distinct loads: the busiest backend never wins, the idlest wins most.
	ts, fs = newTargets(repeat(1, 10)...)
	for i, f := range fs {
		f.inflight.Store(int64(i))
	}
	pk = mustNew(t, balancer.PowerOfTwo).NewPicker(ts)
	counts := pickN(t, pk, 10, draws)
	if counts[9] != 0 {
		t.Fatalf("busiest backend picked %d times", counts[9])
	}
	// P(pick k) = 2(n-1-k) / (n(n-1)).
	want := make([]float64, 9)
	for k := range want {
		want[k] = draws * 2 * float64(9-k) / 90
	}
	within(t, counts[:9], want, 0.20)
}

func TestPowerOfTwoTiesShare(t *testing.T) {
	const draws = 100_000
	ts, _ := newTargets(1, 1)
	pk := mustNew(t, balancer.PowerOfTwo).NewPicker(ts)
	within(t, pickN(t, pk, 2, draws), []float64{draws / 2, draws / 2}, 0.10)
}
