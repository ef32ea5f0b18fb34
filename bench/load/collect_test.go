package load

import (
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// TestCollectKeepsEveryRecordInOrder: the collector's fixed-size blocks
// (recordChunk) join into one slice of every result, in the order they
// came, across block boundaries; failures and progress are counted.
func TestCollectKeepsEveryRecordInOrder(t *testing.T) {
	const n = 2*recordChunk + 5
	r := &Run{done: make(chan struct{}), began: time.Unix(1000, 0)}
	results := make(chan *vegeta.Result)
	go r.collect(results, "X-Backend", map[string]int16{})
	for i := range n {
		code := uint16(200)
		if i%1000 == 0 {
			code = 500
		}
		results <- &vegeta.Result{Timestamp: r.began.Add(time.Duration(i)), Code: code}
	}
	close(results)
	recs := r.Records()
	if len(recs) != n {
		t.Fatalf("%d records, want %d", len(recs), n)
	}
	for i, rec := range recs {
		if rec.Start != time.Duration(i) {
			t.Fatalf("record %d starts at %v, want %v: out of order", i, rec.Start, time.Duration(i))
		}
	}
	if done, failed := r.Progress(); done != n || failed != (n+999)/1000 {
		t.Errorf("progress %d done, %d failed; want %d, %d", done, failed, n, (n+999)/1000)
	}
}
