package proxy

import (
	"bufio"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbtrust/lb/balancer"
	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// fasthttp's process-wide Date header refresher, started once by
		// the first server; not ours to stop.
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
	)
}

// testIdle is the backend clients' idle timeout in tests: short, so their
// cleaner goroutines end soon after a test.
const testIdle = 200 * time.Millisecond

// testWorkerIdle bounds how long a stopped fasthttp.Server's worker
// cleaner sleeps before it notices the stop (10s by default), so goleak
// sees it gone.
const testWorkerIdle = 50 * time.Millisecond

// newTestPool returns a round-robin pool named name with one HEALTHY
// backend per address, each carrying a NewBackendClient.
func newTestPool(t testing.TB, name string, addrs ...string) *pool.Pool {
	t.Helper()
	pol, err := balancer.New(balancer.RoundRobin)
	if err != nil {
		t.Fatal(err)
	}
	p := pool.New(pool.Options{Name: name, Policy: pol})
	for _, a := range addrs {
		b, _, err := p.Add(a, 1)
		if err != nil {
			t.Fatal(err)
		}
		c := NewBackendClient(a, ClientOptions{ConnectTimeout: time.Second, IdleConnTimeout: testIdle})
		b.Attach(c)
		b.ObserveCheck(pool.CheckResult{Outcome: pool.ReasonCheckPassed})
		t.Cleanup(c.CloseIdle)
	}
	return p
}

// checkReleased fails t if a backend of p still counts a request in
// flight: every Acquire must have been released.
func checkReleased(t testing.TB, p *pool.Pool) {
	t.Helper()
	for _, b := range p.Backends() {
		if n := b.InFlight(); n != 0 {
			t.Errorf("backend %s: %d requests still in flight", b.Address(), n)
		}
	}
}

// startBackend serves h with a fasthttp.Server on a loopback port.
func startBackend(t testing.TB, h fasthttp.RequestHandler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fasthttp.Server{Handler: h, DisableHeaderNamesNormalizing: true, MaxIdleWorkerDuration: testWorkerIdle}
	serveUntilCleanup(t, s, ln)
	return ln.Addr().String()
}

// rawBackend runs serve on every connection accepted on a loopback port,
// for backends that misbehave in ways a real server will not.
func rawBackend(t testing.TB, serve func(c net.Conn, br *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveConns(t, ln, func(c net.Conn) { serve(c, bufio.NewReader(c)) })
	return ln.Addr().String()
}

// serveConns runs serve on every connection ln accepts, each in its own
// goroutine, until the test ends; cleanup closes ln and every connection
// and waits for the goroutines.
func serveConns(t testing.TB, ln net.Listener, serve func(c net.Conn)) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
}

// refusedAddr returns a loopback address nothing listens on.
func refusedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a
}

// lb is a running LB listener and a way to reach it.
type lb struct {
	h       *Handler
	dial    func() (net.Conn, error)
	address string // host:port for startTCPLB, else ""
}

// startLB serves h with NewServer(h, o) on an in-memory listener.
func startLB(t testing.TB, h *Handler, o ServerOptions) *lb {
	t.Helper()
	ln := fasthttputil.NewInmemoryListener()
	return serveLB(t, h, o, ln, ln.Dial)
}

// startTCPLB serves h on a loopback port (for tests that need a real
// client IP).
func startTCPLB(t testing.TB, h *Handler, o ServerOptions) *lb {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	l := serveLB(t, h, o, ln, func() (net.Conn, error) { return net.Dial("tcp", addr) })
	l.address = addr
	return l
}

// addr is the loopback address of an LB started with startTCPLB.
func (l *lb) addr(t testing.TB) string {
	t.Helper()
	if l.address == "" {
		t.Fatal("not a TCP listener (use startTCPLB)")
	}
	return l.address
}

func serveLB(t testing.TB, h *Handler, o ServerOptions, ln net.Listener, dial func() (net.Conn, error)) *lb {
	s := NewServer(h, o, nil)
	s.MaxIdleWorkerDuration = testWorkerIdle
	serveUntilCleanup(t, s, ln)
	return &lb{h: h, dial: dial}
}

// serveUntilCleanup serves ln with s until the test ends; cleanup shuts s
// down, closes ln and waits for Serve to return. Closing ln matters: a
// Shutdown that runs before Serve has registered ln (a test that ends
// at once) returns without closing it, and Serve would then accept
// forever.
func serveUntilCleanup(t testing.TB, s interface {
	Serve(net.Listener) error
	Shutdown() error
}, ln net.Listener) {
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(ln) }()
	t.Cleanup(func() {
		_ = s.Shutdown()
		_ = ln.Close()
		<-done
	})
}

// conn is one client connection to the LB, for raw requests.
type conn struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

func (l *lb) conn(t testing.TB) *conn {
	t.Helper()
	c, err := l.dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &conn{t: t, c: c, br: bufio.NewReader(c)}
}

// raw writes a raw request and reads the answer. head reads no body.
func (c *conn) raw(req string, head bool) *fasthttp.Response {
	c.t.Helper()
	_ = c.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.c.Write([]byte(req)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
	resp := &fasthttp.Response{SkipBody: head}
	resp.Header.DisableNormalizing()
	if err := resp.Read(c.br); err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return resp
}

// get sends GET path with the given Host on a fresh connection.
func (l *lb) get(t testing.TB, host, path string) *fasthttp.Response {
	t.Helper()
	return l.conn(t).raw("GET "+path+" HTTP/1.1\r\nHost: "+host+"\r\n\r\n", false)
}

// post sends POST path with body on a fresh connection.
func (l *lb) post(t testing.TB, path, body string) *fasthttp.Response {
	t.Helper()
	return l.conn(t).raw("POST "+path+" HTTP/1.1\r\nHost: lb\r\nContent-Length: "+
		itoa(len(body))+"\r\n\r\n"+body, false)
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// wantJSONError checks status, Content-Type and the JSON body of an LB
// error answer.
func wantJSONError(t testing.TB, resp *fasthttp.Response, status int, msg, poolName string) {
	t.Helper()
	if resp.StatusCode() != status {
		t.Fatalf("status %d, want %d (body %q)", resp.StatusCode(), status, resp.Body())
	}
	if ct := string(resp.Header.ContentType()); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var got map[string]string
	if err := json.Unmarshal(resp.Body(), &got); err != nil {
		t.Fatalf("body %q: %v", resp.Body(), err)
	}
	want := map[string]string{"error": msg}
	if poolName != "" {
		want["pool"] = poolName
	}
	if len(got) != len(want) || got["error"] != want["error"] || got["pool"] != want["pool"] {
		t.Errorf("body %v, want %v", got, want)
	}
}

// okBackend answers 200 with its name as body and counts requests.
func okBackend(t testing.TB, name string, n *atomic.Int64) string {
	return startBackend(t, func(ctx *fasthttp.RequestCtx) {
		n.Add(1)
		ctx.SetBodyString(name)
	})
}

// readRequest reads one request from br; false on EOF or error.
func readRequest(br *bufio.Reader) (*fasthttp.Request, bool) {
	req := &fasthttp.Request{}
	req.Header.DisableNormalizing()
	if err := req.Read(br); err != nil {
		return nil, false
	}
	return req, true
}

// headerLines returns the raw header block of a request as received.
func headerLines(req *fasthttp.Request) string {
	return strings.ReplaceAll(string(req.Header.Header()), "\r\n", "\n")
}
