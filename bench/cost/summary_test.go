package main

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func TestMedianOf(t *testing.T) {
	tests := []struct {
		xs   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		if got := medianOf(tt.xs); got != tt.want {
			t.Errorf("medianOf(%v) = %v, want %v", tt.xs, got, tt.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	r := func(round int, target string, us float64) result {
		return result{Round: round, Target: target, MicrosPerRequest: us, P50ms: us / 100, P99ms: us / 10}
	}
	failed := result{Round: 2, Target: "nginx", Error: "it exited"}
	tests := []struct {
		name    string
		results []result
		targets []string
		medians map[string]float64 // target: median µs/request
		ratios  map[string][]float64
		median  map[string]float64 // peer: median ratio
	}{
		{
			name: "three rounds: ratios within each round, then their median",
			results: []result{
				r(1, "lb", 80), r(1, "haproxy", 50), r(1, "nginx", 40),
				r(2, "haproxy", 60), r(2, "nginx", 50), r(2, "lb", 90),
				r(3, "nginx", 45), r(3, "lb", 100), r(3, "haproxy", 40),
			},
			targets: []string{"lb", "haproxy", "nginx"},
			medians: map[string]float64{"lb": 90, "haproxy": 50, "nginx": 45},
			ratios:  map[string][]float64{"haproxy": {1.6, 1.5, 2.5}, "nginx": {2, 1.8, 100.0 / 45}},
			median:  map[string]float64{"haproxy": 1.6, "nginx": 2},
		},
		{
			name:    "a failed measurement leaves its round out of that ratio",
			results: []result{r(1, "lb", 80), r(1, "nginx", 40), r(2, "lb", 90), failed},
			targets: []string{"lb", "nginx"},
			medians: map[string]float64{"lb": 85, "nginx": 40},
			ratios:  map[string][]float64{"nginx": {2}},
			median:  map[string]float64{"nginx": 2},
		},
		{
			name:    "without lb, medians only",
			results: []result{r(1, "haproxy", 50), r(1, "nginx", 40)},
			targets: []string{"haproxy", "nginx"},
			medians: map[string]float64{"haproxy": 50, "nginx": 40},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := summarize(tt.results, tt.targets)
			if len(s.Medians) != len(tt.medians) {
				t.Fatalf("medians %+v, want %v", s.Medians, tt.medians)
			}
			for _, m := range s.Medians {
				if m.MicrosPerRequest != tt.medians[m.Target] {
					t.Errorf("%s: median %v µs, want %v", m.Target, m.MicrosPerRequest, tt.medians[m.Target])
				}
			}
			if len(s.Ratios) != len(tt.ratios) {
				t.Fatalf("ratios %+v, want %v", s.Ratios, tt.ratios)
			}
			for _, rt := range s.Ratios {
				want := tt.ratios[rt.Peer]
				if len(rt.PerRound) != len(want) {
					t.Fatalf("lb/%s: %+v, want %v", rt.Peer, rt.PerRound, want)
				}
				for i, x := range rt.PerRound {
					if math.Abs(x.Ratio-want[i]) > 1e-9 {
						t.Errorf("lb/%s round %d: %v, want %v", rt.Peer, x.Round, x.Ratio, want[i])
					}
				}
				if math.Abs(rt.Median-tt.median[rt.Peer]) > 1e-9 {
					t.Errorf("lb/%s median %v, want %v", rt.Peer, rt.Median, tt.median[rt.Peer])
				}
			}
		})
	}
}

func TestPrintSummaryMarksMissingRounds(t *testing.T) {
	s := summarize([]result{
		{Round: 1, Target: "lb", MicrosPerRequest: 80}, {Round: 1, Target: "nginx", MicrosPerRequest: 40},
		{Round: 2, Target: "lb", MicrosPerRequest: 90}, {Round: 2, Target: "nginx", Error: "x"},
	}, []string{"lb", "nginx"})
	var b bytes.Buffer
	printSummary(&b, s, 2)
	out := b.String()
	for _, want := range []string{"nginx       40.0", "(1 round)", "lb/nginx", "\n2                  -\n", "median          2.00"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
}
