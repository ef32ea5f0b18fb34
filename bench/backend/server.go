// Package backend is the benchmark's backend: a small HTTP server with
// knobs (response size, latency, drain period) whose faults are switched at
// run time, so a benchmark can hurt one instance behind the load balancer
// under test while load runs.
//
// Every answer carries the header X-Backend naming the instance, which is
// how the benchmark tells which backend served each request. Endpoints:
//
//	GET  /readyz              200 {"status":"ok"}; 503 {"status":"shutting_down"}
//	                          while draining; 503 {"status":"degraded"} in the
//	                          failing half of ModeFlap
//	POST /_fault?mode=M       switch to fault mode M (none, errors, slow, flap);
//	GET  /_fault              the current mode
//	/bytes, /sse, /upload     the streaming endpoints of package
//	                          github.com/lbtrust/lb/demo/stream (large, cut,
//	                          paced and endless answers, streamed uploads);
//	                          no added latency, no fault mode
//	anything else             traffic: after the latency, 200 with a body of
//	                          the response size (500 in ModeErrors)
//
// Main runs one as a process: SIGTERM drains (readyz 503 for the drain
// period, traffic still served), then it stops and exits 0.
package backend

import (
	"bytes"
	"context"
	"net"
	"sync/atomic"
	"time"

	"github.com/lbtrust/lb/demo/stream"
	"github.com/valyala/fasthttp"
)

// HeaderBackend is the response header naming the backend that answered.
const HeaderBackend = "X-Backend"

// DefaultFlapPeriod is how long each half of a ModeFlap cycle lasts.
const DefaultFlapPeriod = 2 * time.Second

// Options configure a Server. The zero value is a backend with an empty
// body, no added latency and the default flap period.
type Options struct {
	// Name tags every answer (X-Backend). Default: the bound address.
	Name string
	// ResponseSize is the body size in bytes of a traffic answer.
	ResponseSize int
	// Latency is added to every traffic request before it is answered.
	Latency time.Duration
	// FlapPeriod is the length of each half of a flap cycle (default
	// DefaultFlapPeriod).
	FlapPeriod time.Duration
}

// Server is one running backend. Safe for concurrent use.
type Server struct {
	opts     Options
	body     []byte
	srv      *fasthttp.Server
	ln       net.Listener
	done     chan struct{}
	mode     atomic.Uint32
	modeAt   atomic.Int64 // unix nanoseconds of the last mode switch
	draining atomic.Bool
	served   atomic.Uint64
	streams  *stream.Handler
}

// Start listens on address (host:port; port 0 picks a free one) and serves
// until Close.
func Start(address string, o Options) (*Server, error) {
	ln, err := net.Listen("tcp", address)
	if err != nil {
		return nil, err
	}
	if o.Name == "" {
		o.Name = ln.Addr().String()
	}
	if o.FlapPeriod <= 0 {
		o.FlapPeriod = DefaultFlapPeriod
	}
	s := &Server{opts: o, ln: ln, done: make(chan struct{}), body: bytes.Repeat([]byte{'x'}, max(o.ResponseSize, 0)), streams: stream.NewHandler()}
	s.srv = &fasthttp.Server{
		Handler:     s.serve,
		Name:        "lb-bench-backend",
		IdleTimeout: 90 * time.Second,
	}
	// Request bodies are streamed to the handler (for /upload); traffic
	// ignores them and fasthttp discards them.
	stream.ConfigureServer(s.srv)
	go func() {
		defer close(s.done)
		s.srv.Serve(ln)
	}()
	return s, nil
}

// Addr is the bound address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Name is the tag the server puts on its answers.
func (s *Server) Name() string { return s.opts.Name }

// Served is how many traffic requests (not /readyz, not /_fault) the
// server answered.
func (s *Server) Served() uint64 { return s.served.Load() }

// Mode is the current fault mode.
func (s *Server) Mode() Mode { return Mode(s.mode.Load()) }

// SetMode switches the fault mode; a flap cycle starts (failing) now.
func (s *Server) SetMode(m Mode) {
	s.modeAt.Store(time.Now().UnixNano())
	s.mode.Store(uint32(m))
}

// Drain makes /readyz answer 503 {"status":"shutting_down"} from now on;
// traffic is still served.
func (s *Server) Drain() { s.draining.Store(true) }

// Close ends the streams (SSE, paced and cut bodies), stops accepting and
// waits up to timeout for in-flight requests (kept-alive connections are
// closed after their current request); it returns when the server has
// stopped or the timeout ran out.
func (s *Server) Close(timeout time.Duration) error {
	s.streams.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := s.srv.ShutdownWithContext(ctx)
	// A Shutdown before Serve registered the listener does not close it.
	s.ln.Close()
	select {
	case <-s.done:
		s.streams.Wait()
	case <-ctx.Done():
	}
	return err
}
