package load

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbtrust/lb/bench/record"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		code uint16
		err  string
		want record.Kind
	}{
		{200, "", record.OK},
		{204, "", record.OK},
		{302, "", record.HTTPError},
		{502, "502 Bad Gateway", record.HTTPError},
		{0, `Get "http://127.0.0.1:1/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, record.Timeout},
		{0, `Get "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: connect: connection refused`, record.Refused},
		{0, `Get "http://127.0.0.1:1/": read tcp 127.0.0.1:2->127.0.0.1:1: read: connection reset by peer`, record.Reset},
		{0, `Get "http://127.0.0.1:1/": EOF`, record.Reset},
		{0, "something else", record.OtherError},
	} {
		if got := Classify(tc.code, tc.err); got != tc.want {
			t.Errorf("Classify(%d, %q) = %s, want %s", tc.code, tc.err, got, tc.want)
		}
	}
}

// A short open-loop run: the count matches the rate, every answer is
// recorded with its backend tag and kind, and the method and body arrive.
func TestRunRecordsEveryResponse(t *testing.T) {
	var n, posts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		if r.Method == http.MethodPost && r.ContentLength == 5 {
			posts.Add(1)
		}
		w.Header().Set("X-Backend", []string{"b1", "b2"}[i%2])
		if i%10 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	r := Start(Options{URL: srv.URL + "/x", Method: "POST", Body: []byte("hello"), Rate: 100, Duration: time.Second,
		Connections: 10, Timeout: 5 * time.Second, Header: "X-Backend", Backends: []string{"b1", "b2"}})
	recs := r.Records()
	if len(recs) < 95 || len(recs) > 101 || int64(len(recs)) != n.Load() {
		t.Fatalf("%d records, server saw %d, want about 100", len(recs), n.Load())
	}
	if posts.Load() != n.Load() {
		t.Errorf("%d of %d requests were POSTs with the body", posts.Load(), n.Load())
	}
	var failed, b1, b2 int
	for _, rec := range recs {
		if rec.Failed() {
			failed++
			if rec.Code != 503 || rec.Kind != record.HTTPError {
				t.Errorf("failure %+v", rec)
			}
		}
		switch rec.Backend {
		case 0:
			b1++
		case 1:
			b2++
		default:
			t.Errorf("untagged record %+v", rec)
		}
		if rec.Start < 0 || rec.Start > 1100*time.Millisecond || rec.Latency <= 0 {
			t.Errorf("record times %+v", rec)
		}
	}
	if want := int(n.Load() / 10); failed != want {
		t.Errorf("%d failures, want %d", failed, want)
	}
	if done, f := r.Progress(); done != uint64(len(recs)) || f != uint64(failed) {
		t.Errorf("progress %d/%d, want %d/%d", done, f, len(recs), failed)
	}
	if b1 == 0 || b2 == 0 {
		t.Errorf("tags b1 %d b2 %d", b1, b2)
	}
}

// Closed loop: a fixed number of workers, as fast as the server goes.
func TestClosedLoop(t *testing.T) {
	var inFlight, peak atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := inFlight.Add(1)
		for p := peak.Load(); v > p && !peak.CompareAndSwap(p, v); p = peak.Load() {
		}
		time.Sleep(2 * time.Millisecond)
		inFlight.Add(-1)
	}))
	defer srv.Close()
	r := Start(Options{URL: srv.URL, Rate: 0, Workers: 4, Duration: 300 * time.Millisecond, Timeout: 5 * time.Second})
	recs := r.Records()
	if len(recs) < 20 {
		t.Errorf("closed loop sent %d requests in 300ms", len(recs))
	}
	if peak.Load() > 4 {
		t.Errorf("peak concurrency %d, want at most 4 workers", peak.Load())
	}
}
