package proxy

import (
	"bytes"
	"io"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/lbtrust/lb/balancer"
	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
)

// cannedRequest is what the client of BenchmarkRequestCPU sends, as a
// load generator would.
const cannedRequest = "GET /api/items?id=42 HTTP/1.1\r\nHost: www.example.com\r\n" +
	"User-Agent: bench\r\nAccept: application/json\r\n\r\n"

// cannedAnswer is what its backends answer, as a fasthttp server would.
const cannedAnswer = "HTTP/1.1 200 OK\r\nServer: fasthttp\r\nDate: Fri, 04 Dec 2026 19:00:00 GMT\r\n" +
	"Content-Type: application/json\r\nContent-Length: 17\r\n\r\n" + `{"hello":"world"}`

// BenchmarkRequestCPU measures the CPU one small GET costs a proxy, and
// nothing else: one goroutine serves a client connection whose reads
// return the next request at once and whose writes take the answer,
// forwarding to backend connections that answer each request written
// with a canned answer, so no other goroutine runs, nothing waits and no
// byte goes through the kernel. Deadlines are real (each connection
// wraps a loopback TCP connection for them), as are the server's limits
// (limitConn, headerReceived), routing, header rewriting, the retry
// budget, the pool's signals and a duration histogram.
//
//   - lb: NewServer serving a Handler to a round-robin pool of three
//     backends, the LB's request path whole;
//   - bare: a fasthttp.Server whose handler hands the request as it is
//     to one of three HostClients in turn: fasthttp's own cost.
//
// lb minus bare is the LB's own per-request cost in user space, without
// the scheduling and system-call noise of BenchmarkProxy. cpu-ns/op is
// the serving thread's CPU time per request: on a shared machine it
// leaves out the time other processes held the core, which ns/op
// includes.
func BenchmarkRequestCPU(b *testing.B) {
	b.Run("lb", func(b *testing.B) {
		pol, _ := balancer.New(balancer.RoundRobin)
		p := pool.New(pool.Options{Name: "web", Policy: pol})
		for _, addr := range []string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"} {
			be, _, _ := p.Add(addr, 1)
			c := newBackendClient(addr, ClientOptions{IdleConnTimeout: testIdle}, func(string, time.Duration) (net.Conn, error) {
				return newCannedBackend(b), nil
			})
			b.Cleanup(c.CloseIdle)
			be.Attach(c)
			be.ObserveCheck(pool.CheckResult{Outcome: pool.ReasonCheckPassed})
		}
		h := NewHandler("public", Routes{Default: &Upstream{Pool: p, Duration: benchHistogram()}}, nil)
		s := NewServer(h, ServerOptions{}, nil)
		s.limits.open.Add(1)
		benchServeConn(b, s.Server, func(c net.Conn) net.Conn { return newLimitConn(c, s.limits) })
		checkReleased(b, p)
	})
	b.Run("bare", func(b *testing.B) {
		var clients []*fasthttp.HostClient
		for _, addr := range []string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"} {
			c := &fasthttp.HostClient{Addr: addr, MaxIdleConnDuration: testIdle, Dial: func(string) (net.Conn, error) { return newCannedBackend(b), nil }}
			b.Cleanup(c.CloseIdleConnections)
			clients = append(clients, c)
		}
		next := 0
		s := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
			next++
			if err := clients[next%len(clients)].Do(&ctx.Request, &ctx.Response); err != nil {
				ctx.Error(err.Error(), fasthttp.StatusBadGateway)
			}
		}}
		benchServeConn(b, s, func(c net.Conn) net.Conn { return c })
	})
}

// benchServeConn has s serve one client connection (wrapped by wrap)
// that sends b.N requests, after a warm-up, and checks every answer.
func benchServeConn(b *testing.B, s *fasthttp.Server, wrap func(net.Conn) net.Conn) {
	warm := newCannedClient(b, 100)
	if err := s.ServeConn(wrap(warm)); err != nil || warm.ok != 100 {
		b.Fatalf("warm-up: %v, %d answers of 100 good", err, warm.ok)
	}
	c := newCannedClient(b, b.N)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	cpu := threadCPU()
	b.ResetTimer()
	err := s.ServeConn(wrap(c))
	b.StopTimer()
	b.ReportMetric(float64(threadCPU()-cpu)/float64(b.N), "cpu-ns/op")
	if err != nil || c.ok != b.N {
		b.Fatalf("%v, %d answers of %d good", err, c.ok, b.N)
	}
}

// rusageThread is Linux's RUSAGE_THREAD: the calling thread's usage.
const rusageThread = 1

// threadCPU is the CPU time (user and system) the calling thread has
// used: unlike the wall time, it leaves out the time other processes
// held the core.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cannedClient is a client connection that sends cannedRequest n times,
// each once the server asks for it, and counts the good answers it is
// written (each in one write: the server flushes once per answer). Its
// deadlines are those of a real loopback connection.
type cannedClient struct {
	net.Conn
	left, ok int
}

func newCannedClient(b *testing.B, n int) *cannedClient {
	return &cannedClient{Conn: loopbackConn(b), left: n}
}

func (c *cannedClient) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	c.left--
	return copy(p, cannedRequest), nil
}

func (c *cannedClient) Write(p []byte) (int, error) {
	if bytes.HasPrefix(p, []byte("HTTP/1.1 200 ")) && bytes.HasSuffix(p, []byte(`{"hello":"world"}`)) {
		c.ok++
	}
	return len(p), nil
}

// cannedBackend is a backend connection that answers cannedAnswer to
// every request written to it. Its deadlines are those of a real
// loopback connection.
type cannedBackend struct {
	net.Conn
	pending bool
}

func newCannedBackend(b *testing.B) *cannedBackend { return &cannedBackend{Conn: loopbackConn(b)} }

func (c *cannedBackend) Write(p []byte) (int, error) {
	c.pending = true
	return len(p), nil
}

func (c *cannedBackend) Read(p []byte) (int, error) {
	if !c.pending {
		return 0, io.EOF
	}
	c.pending = false
	return copy(p, cannedAnswer), nil
}

// loopbackConn returns one end of a loopback TCP connection, open until
// the benchmark ends: something real to set deadlines on.
func loopbackConn(b *testing.B) net.Conn {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	peer, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close(); peer.Close() })
	return c
}
