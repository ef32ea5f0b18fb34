package main

import (
	"math"
	"testing"
	"time"
)

// at builds arrivals at the given milliseconds, to backend 0.
func at(ms ...int) []arrival {
	var out []arrival
	for _, m := range ms {
		out = append(out, arrival{At: time.Duration(m) * time.Millisecond})
	}
	return out
}

func TestSpreadOf(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name    string
		arr     []arrival
		from    time.Duration
		n       int
		nominal float64
		counts  []int
		cv      float64
		maxMean float64
		minMean float64
		peak    float64
	}{
		{"even", at(5, 15, 25, 35), 0, 4, 1, []int{1, 1, 1, 1}, 0, 1, 1, 1},
		{"herd in the first bucket", at(1, 2, 3, 4), 0, 4, 1, []int{4, 0, 0, 0}, math.Sqrt(3), 4, 0, 4},
		{"outside ignored", at(1, 12, 40, 41), 10 * ms, 3, 2, []int{1, 0, 0}, math.Sqrt2, 3, 0, 0.5},
		{"empty", nil, 0, 2, 5, []int{0, 0}, 0, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := spreadOf(tt.arr, tt.from, 10*ms, tt.n, tt.nominal)
			if len(s.Counts) != len(tt.counts) {
				t.Fatalf("counts %v, want %v", s.Counts, tt.counts)
			}
			for i := range tt.counts {
				if s.Counts[i] != tt.counts[i] {
					t.Fatalf("counts %v, want %v", s.Counts, tt.counts)
				}
			}
			near := func(what string, got, want float64) {
				if math.Abs(got-want) > 1e-9 {
					t.Errorf("%s = %v, want %v", what, got, want)
				}
			}
			near("CV", s.CV, tt.cv)
			near("max/mean", s.MaxMean, tt.maxMean)
			near("min/mean", s.MinMean, tt.minMean)
			near("peak/nominal", s.PeakNominal, tt.peak)
		})
	}
}

func TestBetweenFirstPerBackend(t *testing.T) {
	arr := []arrival{{At: 30, Backend: 1}, {At: 10, Backend: 0}, {At: 20, Backend: 1}, {At: 40, Backend: 2}}
	if got := between(arr, 10, 40); len(got) != 3 {
		t.Errorf("between [10,40) = %v, want 3 arrivals", got)
	}
	if f, ok := first(arr); !ok || f != 10 {
		t.Errorf("first = %v %v, want 10", f, ok)
	}
	if _, ok := first(nil); ok {
		t.Error("first of nothing: ok")
	}
	if lo, hi := perBackend(arr, 4); lo != 0 || hi != 2 {
		t.Errorf("perBackend = %d, %d; want 0, 2", lo, hi)
	}
}
