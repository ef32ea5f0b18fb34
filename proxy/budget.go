package proxy

import (
	"sync/atomic"
	"time"
)

// budgetWindow is the retry budget's sliding window, in one-second
// buckets.
const budgetWindow = 10

// retryBudget counts an upstream's requests and retries over a sliding
// window of budgetWindow one-second buckets, as Linkerd's retry budget
// does: a retry is allowed while
//
//	retries < percent% × requests + RetryBudgetMinPerSecond × budgetWindow
//
// counted over the window. Requests are client requests (first tries);
// retries are the extra tries made. The fixed allowance lets an upstream
// with little traffic retry at all; the percentage keeps a pool where
// every backend fails from multiplying its load (no retry storm).
//
// Each bucket is one atomic word holding the second it counts (its epoch,
// since the budget was made, on the monotonic clock) in the high 32 bits
// and the count in the low 32: a word found stamped with an older second
// is restarted by the same compare-and-swap that counts, so there is no
// lock, no reset race and no allocation. Allowing and counting a retry are
// two steps, so concurrent requests may overshoot the budget by at most
// the number of them deciding at the same instant.
//
// A retryBudget is shared by every listener routing to the same Upstream
// and carried over a SetRoutes that keeps the upstream's pool, so a reload
// does not reset it. Safe for concurrent use.
type retryBudget struct {
	start   time.Time
	reqs    [budgetWindow]atomic.Uint64
	retries [budgetWindow]atomic.Uint64
}

func newRetryBudget() *retryBudget { return &retryBudget{start: time.Now()} }

// second is now's bucket epoch: 1 in the first second of the budget.
func (b *retryBudget) second(now time.Time) uint32 {
	d := now.Sub(b.start)
	if d < 0 {
		d = 0
	}
	return uint32(d/time.Second) + 1
}

// noteRequest counts a client request at now.
func (b *retryBudget) noteRequest(now time.Time) {
	s := b.second(now)
	bump(&b.reqs[s%budgetWindow], s)
}

// noteRetry counts a retry made at now.
func (b *retryBudget) noteRetry(now time.Time) {
	s := b.second(now)
	bump(&b.retries[s%budgetWindow], s)
}

// allow reports whether one more retry fits in the budget at now, for
// percent (0..100).
func (b *retryBudget) allow(now time.Time, percent int) bool {
	s := b.second(now)
	reqs, retries := windowSum(&b.reqs, s), windowSum(&b.retries, s)
	return retries*100 < uint64(percent)*reqs+RetryBudgetMinPerSecond*budgetWindow*100
}

// bump adds one to the bucket word w for second s, restarting it when it
// holds an older second. A word already on a newer second (this
// goroutine's clock reading is a little stale) is counted as is.
func bump(w *atomic.Uint64, s uint32) {
	for {
		v := w.Load()
		n := uint64(s)<<32 | 1
		if uint32(v>>32) >= s {
			n = v + 1
		}
		if w.CompareAndSwap(v, n) {
			return
		}
	}
}

// windowSum adds up the buckets of the budgetWindow seconds ending at s.
func windowSum(ws *[budgetWindow]atomic.Uint64, s uint32) uint64 {
	var sum uint64
	for i := range ws {
		v := ws[i].Load()
		if e := uint32(v >> 32); e != 0 && e+budgetWindow > s {
			sum += v & 0xFFFFFFFF
		}
	}
	return sum
}
