package main

import (
	"slices"
	"time"
)

// Spread is the fewest, median and most of some counts, over N of them
// (all zero when N is 0).
type Spread struct {
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
	N      int     `json:"n"`
}

// spreadOf is xs's spread. The median of an even count is the mean of
// the middle two.
func spreadOf(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return Spread{Min: s[0], Median: med, Max: s[n-1], N: n}
}

// DurSpread is a Spread of durations.
type DurSpread struct {
	Min    Millis `json:"min_ms"`
	Median Millis `json:"median_ms"`
	Max    Millis `json:"max_ms"`
	N      int    `json:"n"`
}

// durSpreadOf is ds's spread.
func durSpreadOf(ds []time.Duration) DurSpread {
	xs := make([]float64, len(ds))
	for i, d := range ds {
		xs[i] = float64(d)
	}
	s := spreadOf(xs)
	return DurSpread{Min: Millis(s.Min), Median: Millis(s.Median), Max: Millis(s.Max), N: s.N}
}
