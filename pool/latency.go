package pool

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// latencyBuckets is the size of a latencyHistogram: 4 linear sub-buckets
// per power of two of microseconds covers 1µs to hours within 25%.
const latencyBuckets = 256

// latencyHistogram counts answer latencies lock-free. Writers add; the
// watchdog reads deltas between two moments to estimate a recent p99.
type latencyHistogram struct {
	counts [latencyBuckets]atomic.Uint64
}

// bucketOf maps microseconds to a bucket index (monotonic).
func bucketOf(us uint64) int {
	if us < 4 {
		return int(us)
	}
	e := bits.Len64(us) - 1 // >= 2
	sub := (us >> (e - 2)) & 3
	return min(4*(e-1)+int(sub), latencyBuckets-1)
}

// bucketUpper is the largest latency that falls in bucket i.
func bucketUpper(i int) time.Duration {
	if i < 4 {
		return time.Duration(i) * time.Microsecond
	}
	e := i/4 + 1
	sub := uint64(i % 4)
	if e-2 >= 40 {
		return time.Duration(1<<62 - 1)
	}
	return time.Duration(((4+sub+1)<<(e-2))-1) * time.Microsecond
}

// record adds one latency.
func (h *latencyHistogram) record(d time.Duration) {
	h.counts[bucketOf(uint64(max(d, 0)/time.Microsecond))].Add(1)
}

// quantileSince returns the q-quantile (0 < q < 1) of what was recorded
// since prev, and how many samples that was. When there were at least
// least samples, prev is updated to now; with fewer it is kept (and the
// quantile is 0), so that the samples of a quiet pool add up over
// several calls until there are enough to judge. Called by one
// goroutine at a time.
func (h *latencyHistogram) quantileSince(prev *[latencyBuckets]uint64, q float64, least uint64) (time.Duration, uint64) {
	var delta, now [latencyBuckets]uint64
	var total uint64
	for i := range h.counts {
		now[i] = h.counts[i].Load()
		delta[i] = now[i] - prev[i]
		total += delta[i]
	}
	if total == 0 || total < least {
		return 0, total
	}
	*prev = now
	rank := uint64(float64(total)*q + 0.5)
	var seen uint64
	for i, d := range delta {
		seen += d
		if seen >= rank && d > 0 {
			return bucketUpper(i), total
		}
	}
	return bucketUpper(latencyBuckets - 1), total
}
