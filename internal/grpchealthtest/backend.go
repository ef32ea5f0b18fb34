// Package grpchealthtest runs a real grpc-go server with the standard
// health service (grpc-go's health package) on 127.0.0.1, for the tests of
// the gRPC health check (healthcheck) and of its wiring into a pool
// (server). It is test support: nothing outside tests imports it.
package grpchealthtest

import (
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Backend is a gRPC health server on loopback. It counts the
// connections it accepted (Opened) and closed (Closed); Stop and Start
// take it down and up again on the same address (a restarted backend).
// Its methods are safe for concurrent use.
type Backend struct {
	// Health is the health service: SetServingStatus changes what it
	// answers (Set does it too).
	Health *health.Server
	// Opened and Closed count the connections accepted and closed.
	Opened, Closed atomic.Int64

	t    testing.TB
	addr string

	mu   sync.Mutex
	srv  *grpc.Server
	done chan struct{} // closed when Serve returned
}

// Start starts a backend on 127.0.0.1:0 whose whole server and service
// are SERVING. Test cleanup stops it.
func Start(t testing.TB, service string) *Backend {
	t.Helper()
	b := &Backend{t: t, addr: "127.0.0.1:0", Health: health.NewServer()}
	b.Health.SetServingStatus(service, healthpb.HealthCheckResponse_SERVING)
	b.Start()
	t.Cleanup(b.Stop)
	return b
}

// Addr is the backend's host:port (the same across Stop and Start).
func (b *Backend) Addr() string { return b.addr }

// Port is the backend's port number.
func (b *Backend) Port() int {
	_, p, _ := net.SplitHostPort(b.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// Set changes the serving status of service.
func (b *Backend) Set(service string, st healthpb.HealthCheckResponse_ServingStatus) {
	b.Health.SetServingStatus(service, st)
}

// Start serves on the backend's address (that of the previous start, if
// any). Call it only while the backend is stopped.
func (b *Backend) Start() {
	b.t.Helper()
	ln, err := net.Listen("tcp", b.addr)
	if err != nil {
		b.t.Fatalf("listen %s: %v", b.addr, err)
	}
	b.addr = ln.Addr().String()
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, b.Health)
	done := make(chan struct{})
	b.mu.Lock()
	b.srv, b.done = srv, done
	b.mu.Unlock()
	go func() {
		defer close(done)
		_ = srv.Serve(&countingListener{Listener: ln, b: b})
	}()
}

// Stop closes the listener and every connection at once (a killed
// process, as far as clients can tell) and waits for Serve to return.
// Idempotent.
func (b *Backend) Stop() {
	b.mu.Lock()
	srv, done := b.srv, b.done
	b.srv = nil
	b.mu.Unlock()
	if srv != nil {
		srv.Stop()
		<-done
	}
}

// countingListener counts the connections of a Backend.
type countingListener struct {
	net.Listener
	b *Backend
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.b.Opened.Add(1)
	return &countingConn{Conn: c, b: l.b}, nil
}

type countingConn struct {
	net.Conn
	b    *Backend
	once sync.Once
}

func (c *countingConn) Close() error {
	c.once.Do(func() { c.b.Closed.Add(1) })
	return c.Conn.Close()
}
