package main

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// TestBrokenTarget points the bench at a server that answers 502 to
// every other request: the bench must count those failures exactly.
func TestBrokenTarget(t *testing.T) {
	t.Parallel()
	var total, bad atomic.Int64
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if total.Add(1)%2 == 0 {
			bad.Add(1)
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.Write([]byte("ok"))
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	r, _, _ := runBench(t, "-scenario", "none", "-backends", "0", "-rate", "200", "-duration", "2s",
		"-target-addr", ln.Addr().String())
	if r.Requests != int(total.Load()) {
		t.Errorf("bench counted %d requests, the server saw %d", r.Requests, total.Load())
	}
	if r.FailuresByKind["http_502"] != int(bad.Load()) || r.Failures != int(bad.Load()) {
		t.Errorf("bench counted failures %v (total %d), the server sent %d 502s", r.FailuresByKind, r.Failures, bad.Load())
	}
	if r.Successes != int(total.Load()-bad.Load()) {
		t.Errorf("successes %d, want %d", r.Successes, total.Load()-bad.Load())
	}
	checkCounts(t, r, 200, 2*time.Second)
}
