package proxy

import (
	"bufio"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lbtrust/lb/balancer"
	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// backendErrors returns the error count pool status shows for address.
func backendErrors(t testing.TB, p *pool.Pool, address string) uint64 {
	t.Helper()
	for _, b := range p.Status().Backends {
		if b.Address == address {
			return b.Errors
		}
	}
	t.Fatalf("no backend %s", address)
	return 0
}

func TestBackendReset502(t *testing.T) {
	var seen atomic.Int64
	backend := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, ok := readRequest(br); ok {
			seen.Add(1)
			_ = c.(*net.TCPConn).SetLinger(0) // RST instead of FIN
		}
	})
	up := &Upstream{Pool: newTestPool(t, "web", backend)}
	l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})

	wantJSONError(t, l.get(t, "x", "/"), 502, "backend error", "web")
	if n := seen.Load(); n != 1 {
		t.Errorf("backend saw %d requests, want 1 (no other backend to retry on)", n)
	}
	if n := backendErrors(t, up.Pool, backend); n != 1 {
		t.Errorf("backend errors = %d, want 1", n)
	}
	checkReleased(t, up.Pool)
}

func TestNoEligibleBackend503(t *testing.T) {
	pol, _ := balancer.New(balancer.RoundRobin)
	p := pool.New(pool.Options{Name: "web", Policy: pol})
	if _, _, err := p.Add(refusedAddr(t), 1); err != nil { // INITIAL: not eligible
		t.Fatal(err)
	}
	empty := &Upstream{Pool: newTestPool(t, "empty")}
	h := NewHandler("public", Routes{Default: &Upstream{Pool: p}, Routes: []Route{{Host: "e", Upstream: empty}}}, nil)
	l := startLB(t, h, ServerOptions{})

	wantJSONError(t, l.get(t, "x", "/"), 503, "no healthy backend", "web")
	wantJSONError(t, l.get(t, "e", "/"), 503, "no healthy backend", "empty")
	// HEAD gets the status without a body.
	resp := l.conn(t).raw("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", true)
	if resp.StatusCode() != 503 {
		t.Errorf("HEAD: status %d, want 503", resp.StatusCode())
	}
}

func TestResponseTimeout504(t *testing.T) {
	backend := startBackend(t, func(ctx *fasthttp.RequestCtx) {
		time.Sleep(300 * time.Millisecond)
		ctx.SetBodyString("late")
	})
	up := &Upstream{Pool: newTestPool(t, "slow", backend), ResponseTimeout: 50 * time.Millisecond}
	l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})

	start := time.Now()
	wantJSONError(t, l.get(t, "x", "/"), 504, "backend timeout", "slow")
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Errorf("504 took %v, want about the 50ms response timeout", d)
	}
	if n := backendErrors(t, up.Pool, backend); n != 1 {
		t.Errorf("backend errors = %d, want 1", n)
	}
	checkReleased(t, up.Pool)
}

// TestRetryRefusedElsewhere: a request that could not connect is sent to
// another backend, whatever its method.
func TestRetryRefusedElsewhere(t *testing.T) {
	var good atomic.Int64
	refused := refusedAddr(t)
	up := &Upstream{Pool: newTestPool(t, "web", refused, okBackend(t, "good", &good))}
	core, logs := observer.New(zap.DebugLevel)
	l := startLB(t, NewHandler("public", Routes{Default: up}, zap.New(core)), ServerOptions{})

	for i := 0; i < 20; i++ {
		if resp := l.get(t, "x", "/"); resp.StatusCode() != 200 || string(resp.Body()) != "good" {
			t.Fatalf("GET %d: %d %q", i, resp.StatusCode(), resp.Body())
		}
	}
	for i := 0; i < 6; i++ {
		if resp := l.post(t, "/", "data"); resp.StatusCode() != 200 || string(resp.Body()) != "good" {
			t.Fatalf("POST %d: %d %q (a refused connect never reached the backend: retry it)", i, resp.StatusCode(), resp.Body())
		}
	}
	if good.Load() != 26 {
		t.Errorf("good backend served %d, want 26", good.Load())
	}
	if backendErrors(t, up.Pool, refused) == 0 {
		t.Errorf("refused backend was never tried (round robin should have picked it)")
	}
	// Retries are logged at debug level only, nothing per request above it.
	retries := logs.FilterMessage("retrying on another backend").FilterField(zap.String("failure", "connect_failed"))
	if retries.Len() == 0 || retries.Len() != logs.Len() {
		t.Errorf("%d retry lines among %d log lines, want >0 and only those", retries.Len(), logs.Len())
	}
	for _, e := range logs.All() {
		if e.Level != zap.DebugLevel {
			t.Errorf("per-request log at %v: %s", e.Level, e.Message)
		}
	}
	checkReleased(t, up.Pool)
}

// TestStaleKeepAliveRetried: a backend closes every connection right after
// answering, without saying so; reusing such a connection fails before any
// answer, and the GET goes to another backend.
func TestStaleKeepAliveRetried(t *testing.T) {
	var bad, good atomic.Int64
	badAddr := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, ok := readRequest(br); ok {
			bad.Add(1)
			_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbad"))
		}
		// close silently: no "Connection: close"
	})
	up := &Upstream{Pool: newTestPool(t, "web", badAddr, okBackend(t, "good", &good))}
	l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
	c := l.conn(t)
	for i := 0; i < 40; i++ {
		resp := c.raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n", false)
		if resp.StatusCode() != 200 {
			t.Fatalf("GET %d: %d %q", i, resp.StatusCode(), resp.Body())
		}
		time.Sleep(time.Millisecond) // let the close reach the LB's idle pool
	}
	if bad.Load() == 0 || good.Load() == 0 {
		t.Errorf("bad served %d, good %d: want both used", bad.Load(), good.Load())
	}
	if backendErrors(t, up.Pool, badAddr) == 0 {
		t.Errorf("no stale connection was ever hit: the test proves nothing")
	}
	checkReleased(t, up.Pool)
}

// TestPostNotRetriedAfterSent: a backend reads the request and dies
// without answering. A POST may have been acted on: 502, never resent. A
// GET goes to another backend.
func TestPostNotRetriedAfterSent(t *testing.T) {
	var dead, good atomic.Int64
	deadAddr := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, ok := readRequest(br); ok {
			dead.Add(1)
		}
	})
	up := &Upstream{Pool: newTestPool(t, "web", deadAddr, okBackend(t, "good", &good))}
	l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})

	var failed, ok int64
	for i := 0; i < 10; i++ {
		resp := l.post(t, "/", "pay once")
		switch resp.StatusCode() {
		case 200:
			ok++
		case 502:
			wantJSONError(t, resp, 502, "backend error", "web")
			failed++
		default:
			t.Fatalf("POST %d: %d %q", i, resp.StatusCode(), resp.Body())
		}
	}
	if failed == 0 || failed != dead.Load() || ok != good.Load() {
		t.Errorf("POSTs: %d failed, %d ok; dead backend saw %d, good %d: want failed == dead > 0 and ok == good",
			failed, ok, dead.Load(), good.Load())
	}

	for i := 0; i < 10; i++ {
		if resp := l.get(t, "x", "/"); resp.StatusCode() != 200 {
			t.Fatalf("GET %d: %d %q", i, resp.StatusCode(), resp.Body())
		}
	}
	checkReleased(t, up.Pool)
}

// TestSaturation503: ErrNoFreeConns is the LB's own limit: 503, and the
// backend is not charged with an error.
func TestSaturation503(t *testing.T) {
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	backend := startBackend(t, func(ctx *fasthttp.RequestCtx) {
		entered <- struct{}{}
		<-release
		ctx.SetBodyString("ok")
	})
	pol, _ := balancer.New(balancer.RoundRobin)
	p := pool.New(pool.Options{Name: "tight", Policy: pol})
	b, _, _ := p.Add(backend, 1)
	c := NewBackendClient(backend, ClientOptions{MaxConns: 1, IdleConnTimeout: testIdle})
	t.Cleanup(c.CloseIdle)
	b.Attach(c)
	b.ObserveCheck(pool.CheckResult{Outcome: pool.ReasonCheckPassed})
	l := startLB(t, NewHandler("public", Routes{Default: &Upstream{Pool: p}}, nil), ServerOptions{})

	var wg sync.WaitGroup
	wg.Add(1)
	var first *fasthttp.Response
	c1 := l.conn(t)
	go func() {
		defer wg.Done()
		first = c1.raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n", false)
	}()
	<-entered
	wantJSONError(t, l.get(t, "x", "/"), 503, "backend connection limit reached", "tight")
	close(release)
	wg.Wait()
	if first.StatusCode() != 200 {
		t.Errorf("first request: %d", first.StatusCode())
	}
	if n := backendErrors(t, p, backend); n != 0 {
		t.Errorf("backend errors = %d, want 0: saturation is not the backend's fault", n)
	}
	checkReleased(t, p)
}

// TestHeadAndHTTP10: a HEAD answer keeps its Content-Length and leaves the
// client connection usable; an HTTP/1.0 request without Host still
// reaches the backend.
func TestHeadAndHTTP10(t *testing.T) {
	hosts := make(chan string, 4)
	backend := startBackend(t, func(ctx *fasthttp.RequestCtx) {
		hosts <- string(ctx.Request.Header.Host())
		ctx.SetBodyString("hello")
	})
	up := &Upstream{Pool: newTestPool(t, "web", backend)}
	l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
	c := l.conn(t)
	resp := c.raw("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", true)
	if resp.StatusCode() != 200 || resp.Header.ContentLength() != 5 {
		t.Errorf("HEAD: %d, Content-Length %d, want 200, 5", resp.StatusCode(), resp.Header.ContentLength())
	}
	<-hosts
	resp = c.raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n", false)
	if resp.StatusCode() != 200 || string(resp.Body()) != "hello" {
		t.Errorf("GET after HEAD: %d %q", resp.StatusCode(), resp.Body())
	}
	<-hosts

	resp = l.conn(t).raw("GET / HTTP/1.0\r\n\r\n", false)
	if resp.StatusCode() != 200 || string(resp.Body()) != "hello" {
		t.Errorf("HTTP/1.0 without Host: %d %q", resp.StatusCode(), resp.Body())
	}
	if h := <-hosts; h != backend {
		t.Errorf("backend got Host %q, want its address %q", h, backend)
	}
	checkReleased(t, up.Pool)
}

func TestClassify(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want failure
	}{
		{fasthttp.ErrNoFreeConns, failSaturated},
		{fasthttp.ErrConnectionClosed, failClosed},
		{fasthttp.ErrTimeout, failTimeout},
		{fasthttp.ErrDialTimeout, failTimeout},
		{&dialError{err: fasthttp.ErrDialTimeout, timeout: true}, failConnectTimeout},
		{&dialError{err: net.ErrClosed}, failConnect},
		{&dialError{err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("socket", syscall.EMFILE)}}, failOutOfFiles},
		{&dialError{err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("socket", syscall.ENFILE)}}, failOutOfFiles},
		{&dialError{err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}, failConnect},
		{errConnCut, failConnect},
		{&net.OpError{Op: "write", Err: net.ErrClosed}, failClosed},
		{&net.OpError{Op: "read", Err: net.ErrClosed}, failTransport},
		{fasthttp.ErrBodyTooLarge, failTransport},
	} {
		if got := classify(tt.err); got != tt.want {
			t.Errorf("classify(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
