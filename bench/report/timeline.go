package report

import (
	"slices"
	"time"

	"github.com/lbtrust/lb/bench/record"
)

// Timeline is the run in BucketWidth slices, by request start time: one
// entry per bucket in every series.
type Timeline struct {
	BucketMS int       `json:"bucket_ms"` // bucket width
	OK       []int     `json:"ok"`        // 2xx answers
	Failed   []int     `json:"failed"`    // everything else
	P99MS    []float64 `json:"p99_ms"`    // 99th percentile latency of the bucket's requests
	// PerBackend[i][k] is how many answers backend i tagged in bucket k.
	PerBackend [][]int `json:"per_backend"`
}

// timeline buckets the records; it covers at least the load's duration.
func timeline(recs []record.Record, backends int, duration time.Duration) Timeline {
	n := int((duration + BucketWidth - 1) / BucketWidth)
	for _, r := range recs {
		n = max(n, int(r.Start/BucketWidth)+1)
	}
	t := Timeline{
		BucketMS:   int(BucketWidth / time.Millisecond),
		OK:         make([]int, n),
		Failed:     make([]int, n),
		P99MS:      make([]float64, n),
		PerBackend: make([][]int, backends),
	}
	for i := range t.PerBackend {
		t.PerBackend[i] = make([]int, n)
	}
	lat := make([][]time.Duration, n)
	for _, r := range recs {
		k := max(int(r.Start/BucketWidth), 0)
		if r.Failed() {
			t.Failed[k]++
		} else {
			t.OK[k]++
		}
		if b := int(r.Backend); b >= 0 && b < backends {
			t.PerBackend[b][k]++
		}
		lat[k] = append(lat[k], r.Latency)
	}
	for k, ls := range lat {
		slices.Sort(ls)
		t.P99MS[k] = ms(percentile(ls, 0.99))
	}
	return t
}
