package report

import (
	"math"
	"slices"
	"time"

	"github.com/lbtrust/lb/bench/record"
)

// Latency summarizes request latencies (every request, failed ones
// included), in milliseconds.
type Latency struct {
	Mean float64 `json:"mean"`  // arithmetic mean
	P50  float64 `json:"p50"`   // median
	P90  float64 `json:"p90"`   // 90th percentile (nearest rank)
	P99  float64 `json:"p99"`   // 99th percentile
	P999 float64 `json:"p99_9"` // 99.9th percentile
	Max  float64 `json:"max"`   // slowest request
}

// latencies computes the summary of every record's latency.
func latencies(recs []record.Record) Latency {
	if len(recs) == 0 {
		return Latency{}
	}
	ls := make([]time.Duration, len(recs))
	var sum time.Duration
	for i, r := range recs {
		ls[i] = r.Latency
		sum += r.Latency
	}
	slices.Sort(ls)
	return Latency{
		Mean: ms(sum / time.Duration(len(ls))),
		P50:  ms(percentile(ls, 0.50)),
		P90:  ms(percentile(ls, 0.90)),
		P99:  ms(percentile(ls, 0.99)),
		P999: ms(percentile(ls, 0.999)),
		Max:  ms(ls[len(ls)-1]),
	}
}

// percentile is the nearest-rank percentile p (0..1] of sorted values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// ms is d in milliseconds, rounded to microseconds.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
