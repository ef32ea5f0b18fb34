package proxy

import (
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestIdleConnectionsReleased opens 500 kept-alive client connections
// that each send one request and then sit idle, checks another client is
// served meanwhile, closes them, and expects the open-connection count at
// zero and the goroutines back at their baseline (goleak checks the rest
// at the end of the package).
func TestIdleConnectionsReleased(t *testing.T) {
	const idle = 500
	var n atomic.Int64
	up := &Upstream{Pool: newTestPool(t, "web", okBackend(t, "ok", &n))}
	h := NewHandler("public", Routes{Default: up}, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	s := NewServer(h, ServerOptions{}, nil)
	s.MaxIdleWorkerDuration = testWorkerIdle
	serveUntilCleanup(t, s, ln)
	l := &lb{h: h, dial: func() (net.Conn, error) { return net.Dial("tcp", addr) }}

	warm := l.conn(t)
	if resp := warm.raw("GET / HTTP/1.1\r\nHost: lb\r\n\r\n", false); resp.StatusCode() != 200 {
		t.Fatalf("warm-up: %d", resp.StatusCode())
	}
	warm.c.Close()
	waitFor(t, "warm-up connection closed", func() bool { return s.OpenConnections() == 0 })
	base := settledGoroutines()

	conns := make([]*conn, idle)
	for i := range conns {
		c := l.conn(t)
		if resp := c.raw("GET / HTTP/1.1\r\nHost: lb\r\n\r\n", false); resp.StatusCode() != 200 {
			t.Fatalf("connection %d: %d", i, resp.StatusCode())
		}
		conns[i] = c
	}
	if got := s.OpenConnections(); got != idle {
		t.Errorf("OpenConnections() = %d with %d idle clients", got, idle)
	}
	other := l.conn(t)
	if resp := other.raw("GET / HTTP/1.1\r\nHost: lb\r\n\r\n", false); resp.StatusCode() != 200 {
		t.Errorf("another client while %d are idle: %d", idle, resp.StatusCode())
	}
	other.c.Close()
	for _, c := range conns {
		c.c.Close()
	}
	waitFor(t, "every connection released", func() bool { return s.OpenConnections() == 0 })
	waitFor(t, "goroutines back to the baseline", func() bool { return settledGoroutines() <= base+2 })
}

// settledGoroutines is runtime.NumGoroutine after a short pause, so
// goroutines on their way out are gone.
func settledGoroutines() int {
	time.Sleep(50 * time.Millisecond)
	return runtime.NumGoroutine()
}

// waitFor polls cond until it holds, failing t after 30s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
