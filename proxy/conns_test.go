package proxy

import (
	"bufio"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// clientGet sends GET / to c's backend directly (not through a Handler).
func clientGet(c *BackendClient) (*fasthttp.Response, error) {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	req.SetRequestURI("/")
	req.Header.SetHost("backend")
	resp := &fasthttp.Response{}
	return resp, c.HostClient().DoTimeout(req, resp, 10*time.Second)
}

// keepAliveBackend answers every request "ok" on kept-alive connections
// and reports each connection the client closes on closed.
func keepAliveBackend(t *testing.T, closed chan<- struct{}) string {
	return rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			if _, ok := readRequest(br); !ok {
				closed <- struct{}{}
				return
			}
			if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); err != nil {
				return
			}
		}
	})
}

// TestCloseIdle: CloseIdle closes an idle kept-alive connection at once;
// the backend sees it closed.
func TestCloseIdle(t *testing.T) {
	closed := make(chan struct{}, 8)
	c := NewBackendClient(keepAliveBackend(t, closed), ClientOptions{IdleConnTimeout: testIdle})
	t.Cleanup(func() { c.CloseAll() })

	for attempt := 1; ; attempt++ {
		if resp, err := clientGet(c); err != nil || resp.StatusCode() != 200 {
			t.Fatalf("GET: %v", err)
		}
		if c.OpenConns() == 1 { // idle and kept alive
			break
		}
		if attempt == 3 {
			t.Fatalf("OpenConns = %d after a kept-alive request, want 1", c.OpenConns())
		}
		<-closed // a very slow machine: the idle timeout won, try again
	}
	c.CloseIdle()
	if n := c.OpenConns(); n != 0 {
		t.Errorf("OpenConns = %d after CloseIdle, want 0", n)
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("backend did not see the idle connection closed")
	}
}

// TestOpenConns: busy and idle connections are counted, CloseIdle leaves
// busy ones alone, CloseAll closes idle ones too and counts them, a failed
// dial counts nothing, and the client still works after CloseAll.
func TestOpenConns(t *testing.T) {
	const busy = 3
	entered := make(chan struct{}, busy)
	release := make(chan struct{})
	var hold atomic.Bool
	hold.Store(true)
	backend := startBackend(t, func(ctx *fasthttp.RequestCtx) {
		if hold.Load() {
			entered <- struct{}{}
			<-release
		}
		ctx.SetBodyString("ok")
	})
	c := NewBackendClient(backend, ClientOptions{IdleConnTimeout: testIdle})
	t.Cleanup(func() { c.CloseAll() })
	if n := c.OpenConns(); n != 0 {
		t.Fatalf("OpenConns = %d before any request", n)
	}

	var wg sync.WaitGroup
	errs := make(chan error, busy)
	for range busy {
		wg.Go(func() {
			if _, err := clientGet(c); err != nil {
				errs <- err
			}
		})
	}
	for range busy {
		<-entered
	}
	if n := c.OpenConns(); n != busy {
		t.Errorf("OpenConns = %d with %d requests in flight, want %d", n, busy, busy)
	}
	c.CloseIdle()
	if n := c.OpenConns(); n != busy {
		t.Errorf("OpenConns = %d after CloseIdle with %d requests in flight, want %d", n, busy, busy)
	}
	hold.Store(false)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("request failed: %v", err)
	}
	// Kept alive, now idle (well within testIdle).
	if n := c.OpenConns(); n != busy {
		t.Errorf("OpenConns = %d once idle, want %d", n, busy)
	}
	if n := c.CloseAll(); n != busy {
		t.Errorf("CloseAll = %d, want %d", n, busy)
	}
	if n := c.OpenConns(); n != 0 {
		t.Errorf("OpenConns = %d after CloseAll, want 0", n)
	}
	if n := c.CloseAll(); n != 0 {
		t.Errorf("second CloseAll = %d, want 0", n)
	}

	// The client is not stopped: the next request dials again.
	if resp, err := clientGet(c); err != nil || resp.StatusCode() != 200 {
		t.Fatalf("GET after CloseAll: %v", err)
	}
	if n := c.OpenConns(); n != 1 {
		t.Errorf("OpenConns = %d after a new request, want 1", n)
	}

	refused := NewBackendClient(refusedAddr(t), ClientOptions{IdleConnTimeout: testIdle})
	if _, err := clientGet(refused); err == nil {
		t.Fatal("GET to a refused address succeeded")
	}
	if n := refused.OpenConns(); n != 0 {
		t.Errorf("OpenConns = %d after a failed dial, want 0", n)
	}
}

// slowBackend holds each request for 5 s (or until the test ends) before
// answering, and counts the requests it holds.
func slowBackend(t *testing.T, entered chan<- struct{}, active *atomic.Int64) string {
	release := make(chan struct{})
	addr := startBackend(t, func(ctx *fasthttp.RequestCtx) {
		active.Add(1)
		defer active.Add(-1)
		entered <- struct{}{}
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
		ctx.SetBodyString("late")
	})
	t.Cleanup(func() { close(release) }) // runs before the server's Shutdown
	return addr
}

// TestCloseAllCutsInFlight: CloseAll (a deregistration delay running out)
// cuts a request in flight on a backend that takes 5 s: the client gets a
// 502 at once, not retried (POST), and the backend's in-flight count is
// back to 0.
func TestCloseAllCutsInFlight(t *testing.T) {
	entered := make(chan struct{}, 1)
	var active atomic.Int64
	backend := slowBackend(t, entered, &active)
	up := &Upstream{Pool: newTestPool(t, "web", backend)}
	l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
	b := up.Pool.Backends()[0]
	c := b.Attached().(*BackendClient)

	done := make(chan *fasthttp.Response, 1)
	cc := l.conn(t)
	start := time.Now()
	go func() {
		done <- cc.raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody", false)
	}()
	<-entered
	if n := b.InFlight(); n != 1 {
		t.Errorf("in flight = %d, want 1", n)
	}
	if n := c.OpenConns(); n != 1 {
		t.Errorf("OpenConns = %d, want 1", n)
	}
	if n := c.CloseAll(); n < 1 {
		t.Errorf("CloseAll = %d, want >= 1", n)
	}
	var resp *fasthttp.Response
	select {
	case resp = <-done:
	case <-time.After(4 * time.Second):
		t.Fatal("the cut request did not end")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cut request took %v, want well under the backend's 5s", d)
	}
	wantJSONError(t, resp, 502, "backend error", "web")
	checkReleased(t, up.Pool)
	if n := backendErrors(t, up.Pool, backend); n != 1 {
		t.Errorf("backend errors = %d, want 1", n)
	}
	if n := c.OpenConns(); n != 0 {
		t.Errorf("OpenConns = %d after the cut, want 0", n)
	}
}

// TestCloseAllRetriesGET: a GET cut before any answer byte is retried on
// another backend (the existing retry policy for a connection closed
// before the answer).
func TestCloseAllRetriesGET(t *testing.T) {
	var first atomic.Bool
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	handler := func(name string) fasthttp.RequestHandler {
		return func(ctx *fasthttp.RequestCtx) {
			if first.CompareAndSwap(false, true) {
				entered <- struct{}{}
				select {
				case <-release:
				case <-time.After(5 * time.Second):
				}
			}
			ctx.SetBodyString(name)
		}
	}
	a := startBackend(t, handler("a"))
	bAddr := startBackend(t, handler("b"))
	t.Cleanup(func() { close(release) })
	up := &Upstream{Pool: newTestPool(t, "web", a, bAddr)}
	l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})

	done := make(chan *fasthttp.Response, 1)
	cc := l.conn(t)
	go func() { done <- cc.raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n", false) }()
	<-entered
	var slow *BackendClient
	var other string
	for _, b := range up.Pool.Backends() {
		if c := b.Attached().(*BackendClient); c.OpenConns() == 1 {
			slow = c
		} else {
			other = map[string]string{a: "a", bAddr: "b"}[b.Address()]
		}
	}
	if slow == nil || other == "" {
		t.Fatal("cannot tell which backend holds the request")
	}
	if n := slow.CloseAll(); n != 1 {
		t.Errorf("CloseAll = %d, want 1", n)
	}
	var resp *fasthttp.Response
	select {
	case resp = <-done:
	case <-time.After(4 * time.Second):
		t.Fatal("the cut request did not end")
	}
	if resp.StatusCode() != 200 || string(resp.Body()) != other {
		t.Errorf("GET: %d %q, want 200 %q (retried on the other backend)", resp.StatusCode(), resp.Body(), other)
	}
	checkReleased(t, up.Pool)
}

// cutWithoutFlush closes c's connections the way CloseAll does but leaves
// them in fasthttp's idle pool: the race CloseAll cannot close (a request
// that completes while it runs).
func cutWithoutFlush(c *BackendClient) {
	c.mu.Lock()
	var cut []*trackedConn
	for tc := range c.conns {
		cut = append(cut, tc)
	}
	c.mu.Unlock()
	for _, tc := range cut {
		tc.detach()
		_ = tc.Conn.Close()
	}
}

// TestCutConnInIdlePool: a connection CloseAll closed that is back in
// fasthttp's idle pool anyway fails the next request with errConnCut
// before anything is sent, and the Handler retries that request on
// another backend, even a POST.
func TestCutConnInIdlePool(t *testing.T) {
	var na, nb atomic.Int64
	a, bAddr := okBackend(t, "a", &na), okBackend(t, "b", &nb)

	direct := NewBackendClient(a, ClientOptions{IdleConnTimeout: testIdle})
	t.Cleanup(func() { direct.CloseAll() })
	if _, err := clientGet(direct); err != nil {
		t.Fatal(err)
	}
	cutWithoutFlush(direct)
	if _, err := clientGet(direct); err != errConnCut {
		t.Fatalf("request on a cut pooled connection: %v, want errConnCut", err)
	}
	if _, err := clientGet(direct); err != nil { // that one is gone; dials anew
		t.Fatalf("next request: %v", err)
	}

	up := &Upstream{Pool: newTestPool(t, "web", a, bAddr)}
	l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
	for range 2 { // one idle connection to each backend
		if resp := l.post(t, "/", "x"); resp.StatusCode() != 200 {
			t.Fatalf("warm-up POST: %d %q", resp.StatusCode(), resp.Body())
		}
	}
	ca := up.Pool.Backend(a).Attached().(*BackendClient)
	if n := ca.OpenConns(); n != 1 {
		t.Fatalf("OpenConns(a) = %d, want 1", n)
	}
	cutWithoutFlush(ca)
	na.Store(0)
	nb.Store(0)
	for range 2 { // one of them picks a first and meets the cut connection
		if resp := l.post(t, "/", "x"); resp.StatusCode() != 200 {
			t.Errorf("POST: %d %q, want 200", resp.StatusCode(), resp.Body())
		}
	}
	if got := na.Load() + nb.Load(); got != 2 {
		t.Errorf("backends saw %d requests, want 2", got)
	}
	if n := backendErrors(t, up.Pool, a); n != 1 {
		t.Errorf("backend a errors = %d, want 1 (one attempt on the cut connection)", n)
	}
	checkReleased(t, up.Pool)
}
