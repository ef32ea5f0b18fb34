package main

import (
	"math"
	"time"
)

// spread says how evenly probes fell over time: their counts per bucket
// of equal width.
type spread struct {
	From   time.Duration `json:"from_ns"`  // start of the first bucket, since the run's probe log started
	Width  time.Duration `json:"width_ns"` // bucket width
	Counts []int         `json:"counts"`   // probes per bucket
	// Nominal is the probes a bucket would hold if every backend were
	// probed once per interval, evenly: backends × width / interval.
	Nominal float64 `json:"nominal"`
	Mean    float64 `json:"mean"` // mean count
	// CV is the coefficient of variation of the counts (standard deviation
	// over mean): about 1/sqrt(mean) for probes at random times, 0 for a
	// perfectly even spread, large for bursts.
	CV float64 `json:"cv"`
	// MaxMean and MinMean are the fullest and the emptiest bucket over the
	// mean; PeakNominal and TroughNominal the same over Nominal.
	MaxMean       float64 `json:"max_over_mean"`
	MinMean       float64 `json:"min_over_mean"`
	PeakNominal   float64 `json:"peak_over_nominal"`
	TroughNominal float64 `json:"trough_over_nominal"`
}

// spreadOf counts arrivals into n buckets of width from `from` on
// (arrivals outside them are ignored) and computes the figures, with
// nominal the expected count per bucket.
func spreadOf(arr []arrival, from, width time.Duration, n int, nominal float64) spread {
	s := spread{From: from, Width: width, Counts: make([]int, n), Nominal: nominal}
	if n <= 0 || width <= 0 {
		return s
	}
	for _, a := range arr {
		if a.At < from {
			continue
		}
		if i := int((a.At - from) / width); i < n {
			s.Counts[i]++
		}
	}
	lo, hi, sum := s.Counts[0], s.Counts[0], 0
	for _, c := range s.Counts {
		lo, hi, sum = min(lo, c), max(hi, c), sum+c
	}
	s.Mean = float64(sum) / float64(n)
	var sq float64
	for _, c := range s.Counts {
		d := float64(c) - s.Mean
		sq += d * d
	}
	if s.Mean > 0 {
		s.CV = math.Sqrt(sq/float64(n)) / s.Mean
		s.MaxMean, s.MinMean = float64(hi)/s.Mean, float64(lo)/s.Mean
	}
	if nominal > 0 {
		s.PeakNominal, s.TroughNominal = float64(hi)/nominal, float64(lo)/nominal
	}
	return s
}

// between returns the arrivals in [from, to).
func between(arr []arrival, from, to time.Duration) []arrival {
	var out []arrival
	for _, a := range arr {
		if a.At >= from && a.At < to {
			out = append(out, a)
		}
	}
	return out
}

// perBackend returns the fewest and the most probes any of n backends
// received among arr.
func perBackend(arr []arrival, n int) (lo, hi int) {
	if n == 0 {
		return 0, 0
	}
	counts := make([]int, n)
	for _, a := range arr {
		if int(a.Backend) < n {
			counts[a.Backend]++
		}
	}
	lo, hi = counts[0], counts[0]
	for _, c := range counts {
		lo, hi = min(lo, c), max(hi, c)
	}
	return lo, hi
}

// first is the earliest arrival time, and false when there is none.
func first(arr []arrival) (time.Duration, bool) {
	if len(arr) == 0 {
		return 0, false
	}
	m := arr[0].At
	for _, a := range arr {
		m = min(m, a.At)
	}
	return m, true
}
