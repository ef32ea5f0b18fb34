package balancer_test

import (
	"testing"

	"github.com/lbtrust/lb/balancer"
)

// The tolerances below are many standard deviations wide (a binomial count
// of 200,000 draws has a standard deviation under 0.5% of its mean at these
// shares), so these tests do not flake.

func TestRandomDistribution(t *testing.T) {
	const draws = 200_000
	tests := []struct {
		name    string
		weights []int
	}{
		{"uniform", []int{1, 1, 1, 1}},
		{"uniform heavy", []int{9, 9, 9}},
		{"weighted", []int{1, 2, 3, 4}},
		{"5,1,1", []int{5, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, _ := newTargets(tt.weights...)
			pk := mustNew(t, balancer.Random).NewPicker(ts)
			total := float64(sumInts(tt.weights))
			want := make([]float64, len(ts))
			for i, w := range tt.weights {
				want[i] = draws * float64(w) / total
			}
			within(t, pickN(t, pk, len(ts), draws), want, 0.10)
		})
	}
}
