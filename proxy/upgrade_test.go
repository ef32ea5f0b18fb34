package proxy

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/lbtrust/lb/balancer"
	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
	"go.uber.org/zap"
)

func TestWantsTunnel(t *testing.T) {
	for _, tc := range []struct {
		name, head string
		want       bool
	}{
		{"websocket", "Connection: Upgrade\r\nUpgrade: websocket\r\n", true},
		{"case and lists", "connection: keep-alive, UPGRADE\r\nupgrade: WebSocket\r\n", true},
		{"unknown token", "Connection: upgrade\r\nUpgrade: x-custom/2\r\n", true},
		{"two Connection fields", "Connection: keep-alive\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n", true},
		{"no Connection token", "Connection: keep-alive\r\nUpgrade: websocket\r\n", false},
		{"no Upgrade", "Connection: Upgrade\r\n", false},
		{"empty Upgrade", "Connection: Upgrade\r\nUpgrade: \r\n", false},
		{"token is a substring", "Connection: upgrades\r\nUpgrade: websocket\r\n", false},
		{"h2c", "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n", false},
		{"h2c in a list", "Connection: Upgrade\r\nUpgrade: websocket, H2C\r\n", false},
		{"HTTP/1.0", "Connection: Upgrade\r\nUpgrade: websocket\r\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proto := "HTTP/1.1"
			if tc.name == "HTTP/1.0" {
				proto = "HTTP/1.0"
			}
			var req fasthttp.Request
			req.Header.DisableNormalizing()
			raw := "GET /ws " + proto + "\r\nHost: x\r\n" + tc.head + "\r\n"
			if err := req.Header.Read(bufioReader(raw)); err != nil {
				t.Fatal(err)
			}
			if got := wantsTunnel(&req.Header); got != tc.want {
				t.Errorf("wantsTunnel = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestWantsTunnelAllocs(t *testing.T) {
	var req fasthttp.Request
	req.Header.DisableNormalizing()
	if err := req.Header.Read(bufioReader("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nAccept: */*\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { wantsTunnel(&req.Header) }); n != 0 {
		t.Errorf("%v allocs per call, want 0", n)
	}
}

// TestWebSocketEcho passes a WebSocket through the LB with a real client
// and server library: messages both ways, text and binary, a large one,
// and the connection counted in flight on its backend while it is open.
func TestWebSocketEcho(t *testing.T) {
	be := startWSBackend(t, "b1")
	p := newTestPool(t, "ws", be.addr)
	l := startTCPLB(t, NewHandler("public", Routes{Default: &Upstream{Pool: p}}, nil), ServerOptions{})
	addr := l.addr(t)

	c, name := dialWS(t, addr)
	if name != "b1" {
		t.Errorf("101 answer X-Backend %q, want b1 (end-to-end fields of the 101 are kept)", name)
	}
	echo(t, c, websocket.MessageText, "hello")
	echo(t, c, websocket.MessageBinary, "\x00\x01\x02binary")
	echo(t, c, websocket.MessageBinary, strings.Repeat("0123456789abcdef", 1<<16)) // 1 MiB
	b := backendNamed(t, p, be.addr)
	if b.InFlight() != 1 || b.UpgradedConns() != 1 || l.h.UpgradedConns() != 1 {
		t.Errorf("in flight %d, upgraded %d, listener upgraded %d; want 1, 1, 1", b.InFlight(), b.UpgradedConns(), l.h.UpgradedConns())
	}
	st := p.Status().Backends[0]
	if st.InFlight != 1 || st.Upgraded != 1 {
		t.Errorf("status in_flight %d upgraded %d, want 1 and 1", st.InFlight, st.Upgraded)
	}

	hdr := <-be.header
	if got := hdr.Get("X-Forwarded-For"); got != "127.0.0.1" {
		t.Errorf("backend saw X-Forwarded-For %q, want 127.0.0.1", got)
	}

	if err := c.Close(websocket.StatusNormalClosure, "done"); err != nil {
		t.Errorf("close handshake through the LB: %v", err)
	}
	eventually(t, "slot released", func() bool { return b.InFlight() == 0 && l.h.UpgradedConns() == 0 })
	if b.UpgradedConns() != 0 {
		t.Errorf("upgraded %d after close", b.UpgradedConns())
	}
}

// TestWebSocketBackendCloses: the backend's close frame reaches the
// client, and the slot is released.
func TestWebSocketBackendCloses(t *testing.T) {
	be := startWSBackend(t, "b1")
	p := newTestPool(t, "ws", be.addr)
	l := startTCPLB(t, NewHandler("public", Routes{Default: &Upstream{Pool: p}}, nil), ServerOptions{})
	c, _ := dialWS(t, l.addr(t))
	echo(t, c, websocket.MessageText, "one")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte("bye")); err != nil {
		t.Fatal(err)
	}
	err := waitClosed(t, c)
	if got := websocket.CloseStatus(err); got != websocket.StatusGoingAway {
		t.Errorf("client got %v (status %d), want the backend's close frame %d", err, got, websocket.StatusGoingAway)
	}
	eventually(t, "slot released", func() bool { return p.Backends()[0].InFlight() == 0 && l.h.UpgradedConns() == 0 })
}

// TestWebSocketDrain: draining the backend that holds a socket keeps the
// socket working until deregistration_delay runs out, then the LB closes
// it with a log line; a new socket lands on the other backend.
func TestWebSocketDrain(t *testing.T) {
	const delay = 2 * time.Second
	b1, b2 := startWSBackend(t, "b1"), startWSBackend(t, "b2")
	log, logs := observedLogger()
	pol, _ := balancer.New(balancer.RoundRobin)
	var p *pool.Pool
	p = pool.New(pool.Options{Name: "ws", Policy: pol, DeregistrationDelay: delay, Logger: zap.NewNop(),
		OnTransition: func(tr pool.Transition) {
			// What server/ does when the delay runs out.
			if tr.Reason == pool.ReasonDeregistrationTimeout {
				tr.Target.Attached().(*BackendClient).CloseAll()
			}
		}})
	t.Cleanup(p.Close)
	names := map[string]string{}
	for _, be := range []*wsBackend{b1, b2} {
		b, _, err := p.Add(be.addr, 1)
		if err != nil {
			t.Fatal(err)
		}
		b.Attach(NewBackendClient(be.addr, ClientOptions{IdleConnTimeout: testIdle}))
		b.ObserveCheck(pool.CheckResult{Outcome: pool.ReasonCheckPassed})
		names[be.name] = be.addr
	}
	l := startTCPLB(t, NewHandler("public", Routes{Default: &Upstream{Pool: p}}, log), ServerOptions{})
	addr := l.addr(t)

	old, holder := dialWS(t, addr)
	echo(t, old, websocket.MessageText, "before drain")
	held := backendNamed(t, p, names[holder])

	drainedAt := time.Now()
	if err := p.Drain(held.Address()); err != nil {
		t.Fatal(err)
	}
	if st := held.State(); st != pool.StateDraining {
		t.Fatalf("state %v after drain with an open socket, want draining (the socket is in flight)", st)
	}
	echo(t, old, websocket.MessageText, "while draining")
	if held.InFlight() != 1 {
		t.Errorf("draining backend in flight %d, want 1", held.InFlight())
	}

	for range 3 {
		c, name := dialWS(t, addr)
		if name == holder {
			t.Fatalf("a new socket went to the draining backend %s", holder)
		}
		echo(t, c, websocket.MessageText, "new socket")
	}

	err := waitClosed(t, old)
	if since := time.Since(drainedAt); since < delay {
		t.Errorf("socket closed %v after the drain, before the %v deregistration delay (%v)", since, delay, err)
	}
	eventually(t, "close logged", func() bool {
		return logs.FilterMessage("websocket closed: deregistration delay expired").Len() == 1
	})
	e := logs.FilterMessage("websocket closed: deregistration delay expired").All()[0]
	f := e.ContextMap()
	if f["pool"] != "ws" || f["backend"] != held.Address() || f["duration"] == nil || e.Level != zap.InfoLevel {
		t.Errorf("log line %v %v, want info with pool ws, backend %s, duration", e.Level, f, held.Address())
	}
	eventually(t, "drained", func() bool { return held.State() == pool.StateDrained && held.InFlight() == 0 })
	if r := p.Status().Backends; r[0].Reason != pool.ReasonDeregistrationTimeout && r[1].Reason != pool.ReasonDeregistrationTimeout {
		t.Errorf("no backend ended its drain by deregistration_timeout: %+v", r)
	}
}

// TestUpgradeRefusedRelayed: a backend that does not switch protocols has
// its answer relayed like any other, and the client connection stays an
// HTTP one.
func TestUpgradeRefusedRelayed(t *testing.T) {
	var seen atomic.Value
	addr := startBackend(t, func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == "/ws" {
			seen.Store(string(ctx.Request.Header.Header()))
			ctx.SetStatusCode(fasthttp.StatusForbidden)
			ctx.SetBodyString("no sockets for you")
			return
		}
		ctx.SetBodyString("plain")
	})
	p := newTestPool(t, "ws", addr)
	l := startTCPLB(t, NewHandler("public", Routes{Default: &Upstream{Pool: p}}, nil), ServerOptions{})
	c := l.conn(t)
	resp := c.raw("GET /ws HTTP/1.1\r\nHost: lb\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", false)
	if resp.StatusCode() != fasthttp.StatusForbidden || string(resp.Body()) != "no sockets for you" {
		t.Fatalf("got %d %q, want the backend's 403", resp.StatusCode(), resp.Body())
	}
	head, _ := seen.Load().(string)
	for _, want := range []string{"Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "X-Forwarded-For: 127.0.0.1"} {
		if !strings.Contains(head, want) {
			t.Errorf("backend request lacks %q:\n%s", want, head)
		}
	}
	if resp := c.raw("GET /next HTTP/1.1\r\nHost: lb\r\n\r\n", false); string(resp.Body()) != "plain" {
		t.Errorf("next request on the same connection got %d %q", resp.StatusCode(), resp.Body())
	}
	checkReleased(t, p)
}

// TestUpgradeH2CForwardedPlain: an h2c upgrade is never passed through:
// the backend gets a plain HTTP/1.1 request without the upgrade fields.
func TestUpgradeH2CForwardedPlain(t *testing.T) {
	var seen atomic.Value
	addr := startBackend(t, func(ctx *fasthttp.RequestCtx) {
		seen.Store(string(ctx.Request.Header.Header()))
		ctx.SetBodyString("h1")
	})
	p := newTestPool(t, "ws", addr)
	l := startTCPLB(t, NewHandler("public", Routes{Default: &Upstream{Pool: p}}, nil), ServerOptions{})
	resp := l.conn(t).raw("GET / HTTP/1.1\r\nHost: lb\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"+
		"HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n", false)
	if resp.StatusCode() != fasthttp.StatusOK || string(resp.Body()) != "h1" {
		t.Fatalf("got %d %q, want 200 h1", resp.StatusCode(), resp.Body())
	}
	head, _ := seen.Load().(string)
	for _, bad := range []string{"Upgrade", "HTTP2-Settings", "Connection"} {
		if strings.Contains(head, bad+":") {
			t.Errorf("backend request kept %s:\n%s", bad, head)
		}
	}
}

// TestUpgradeRawSplice checks the splice byte by byte with a raw backend:
// bytes the client sent right behind its request and bytes the backend
// sent right behind its 101 are not lost, and a half-close travels each
// way while the other direction goes on.
func TestUpgradeRawSplice(t *testing.T) {
	got := make(chan string, 1)
	addr := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		req, ok := readRequest(br)
		if !ok {
			return
		}
		got <- headerLines(req)
		c.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x-test\r\nConnection: Upgrade\r\nX-Extra: 1\r\n\r\nHELLO"))
		early := make([]byte, 5)
		if _, err := io.ReadFull(br, early); err != nil || string(early) != "EARLY" {
			c.Write([]byte("BAD:" + string(early)))
			return
		}
		rest, err := io.ReadAll(br) // until the client's half-close
		if err != nil {
			return
		}
		c.Write(append([]byte("GOT:"), rest...))
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, br)
	})
	p := newTestPool(t, "raw", addr)
	l := startTCPLB(t, NewHandler("public", Routes{Default: &Upstream{Pool: p}}, nil), ServerOptions{})
	c := l.conn(t)
	c.c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.c.Write([]byte("GET /tunnel HTTP/1.1\r\nHost: lb\r\nConnection: Upgrade\r\nUpgrade: x-test\r\n\r\nEARLY")); err != nil {
		t.Fatal(err)
	}
	var resp fasthttp.Response
	resp.Header.DisableNormalizing()
	if err := resp.Header.Read(c.br); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode() != 101 || string(resp.Header.Peek("Upgrade")) != "x-test" || string(resp.Header.Peek("X-Extra")) != "1" {
		t.Fatalf("head %q", resp.Header.Header())
	}
	hello := make([]byte, 5)
	if _, err := io.ReadFull(c.br, hello); err != nil || string(hello) != "HELLO" {
		t.Fatalf("bytes after the 101: %q, %v", hello, err)
	}
	c.c.Write([]byte("payload"))
	c.c.(*net.TCPConn).CloseWrite()
	rest, err := io.ReadAll(c.br)
	if err != nil || string(rest) != "GOT:payload" {
		t.Fatalf("after half-close got %q, %v; want GOT:payload then EOF", rest, err)
	}
	head := <-got
	for _, want := range []string{"Connection: Upgrade\n", "Upgrade: x-test\n", "X-Forwarded-For: 127.0.0.1\n"} {
		if !strings.Contains(head, want) {
			t.Errorf("backend request lacks %q:\n%s", want, head)
		}
	}
	eventually(t, "slot released", func() bool { return p.Backends()[0].InFlight() == 0 })
}

// TestUpgradeIdleTimeout: an upgraded connection with no byte either way
// for the listener's idle timeout is closed; traffic in one direction
// keeps it open.
func TestUpgradeIdleTimeout(t *testing.T) {
	const idle = 2 * time.Second
	be := startWSBackend(t, "b1")
	p := newTestPool(t, "ws", be.addr)
	log, logs := observedLogger()
	l := startTCPLB(t, NewHandler("public", Routes{Default: &Upstream{Pool: p}}, log), ServerOptions{IdleTimeout: idle})
	addr := l.addr(t)

	busy, _ := dialWS(t, addr)
	quiet, _ := dialWS(t, addr)
	opened := time.Now()
	for time.Since(opened) < 5*idle/2 {
		echo(t, busy, websocket.MessageText, "tick")
		time.Sleep(idle / 10)
	}
	err := waitClosed(t, quiet)
	if since := time.Since(opened); since < idle {
		t.Errorf("quiet socket closed after %v, before the %v idle timeout (%v)", since, idle, err)
	}
	echo(t, busy, websocket.MessageText, "still open")
	eventually(t, "idle close logged", func() bool {
		for _, e := range logs.FilterMessage("websocket closed").All() {
			if e.ContextMap()["cause"] == "idle_timeout" {
				return true
			}
		}
		return false
	})
	eventually(t, "one slot left", func() bool { return p.Backends()[0].InFlight() == 1 })
}

// TestUpgradeShutdown: ShutdownLong lets sockets run until its
// context is done, then closes them with a log line; new upgrades get 503.
func TestUpgradeShutdown(t *testing.T) {
	be := startWSBackend(t, "b1")
	p := newTestPool(t, "ws", be.addr)
	log, logs := observedLogger()
	l := startTCPLB(t, NewHandler("public", Routes{Default: &Upstream{Pool: p}}, log), ServerOptions{})
	addr := l.addr(t)
	c, _ := dialWS(t, addr)
	echo(t, c, websocket.MessageText, "before")

	const grace = 500 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	start := time.Now()
	done := make(chan int, 1)
	go func() { done <- l.h.ShutdownLong(ctx) }()
	eventually(t, "upgrades refused", l.h.upgrades.isClosed)
	if _, resp, err := tryDialWS(t, addr); err == nil || resp == nil || resp.StatusCode != fasthttp.StatusServiceUnavailable {
		t.Errorf("upgrade during shutdown: %v, %v; want 503", resp, err)
	}
	if err := tryEcho(c, websocket.MessageText, "during grace"); err != nil && time.Since(start) < grace {
		t.Errorf("socket failed within the grace period: %v", err)
	}
	select {
	case n := <-done:
		if n != 1 {
			t.Errorf("ShutdownLong closed %d, want 1", n)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ShutdownLong did not return")
	}
	if since := time.Since(start); since < grace {
		t.Errorf("returned after %v, before the grace period", since)
	}
	waitClosed(t, c)
	if logs.FilterMessage("websocket closed: shutdown grace period over").Len() != 1 {
		t.Errorf("no shutdown log line")
	}
	checkReleased(t, p)
}

// TestUpgradeShutdownWaits: a socket that ends within the grace period
// is not cut: ShutdownLong returns 0 once it is gone.
func TestUpgradeShutdownWaits(t *testing.T) {
	be := startWSBackend(t, "b1")
	p := newTestPool(t, "ws", be.addr)
	l := startTCPLB(t, NewHandler("public", Routes{Default: &Upstream{Pool: p}}, nil), ServerOptions{})
	c, _ := dialWS(t, l.addr(t))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- l.h.ShutdownLong(ctx) }()
	eventually(t, "upgrades refused", l.h.upgrades.isClosed)
	echo(t, c, websocket.MessageText, "still served")
	c.Close(websocket.StatusNormalClosure, "")
	select {
	case n := <-done:
		if n != 0 {
			t.Errorf("ShutdownLong closed %d, want 0", n)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ShutdownLong still waiting after the socket ended")
	}
}

// TestUpgradeRetriesConnectFailure: an upgrade whose backend refuses the
// connection is retried on another one (it never reached the first).
func TestUpgradeRetriesConnectFailure(t *testing.T) {
	be := startWSBackend(t, "good")
	p := newTestPool(t, "ws", refusedAddr(t), be.addr)
	l := startTCPLB(t, NewHandler("public", Routes{Default: &Upstream{Pool: p}}, nil), ServerOptions{})
	for range 2 { // round robin: the refused backend comes first once
		c, name := dialWS(t, l.addr(t))
		if name != "good" {
			t.Errorf("answered by %q", name)
		}
		echo(t, c, websocket.MessageText, "x")
	}
}

// TestUpgradeNoBackend: no backend to send to is the usual 503.
func TestUpgradeNoBackend(t *testing.T) {
	pol, _ := balancer.New(balancer.RoundRobin)
	p := pool.New(pool.Options{Name: "empty", Policy: pol})
	l := startTCPLB(t, NewHandler("public", Routes{Default: &Upstream{Pool: p}}, nil), ServerOptions{})
	resp := l.conn(t).raw("GET / HTTP/1.1\r\nHost: lb\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", false)
	wantJSONError(t, resp, fasthttp.StatusServiceUnavailable, "no healthy backend", "empty")
}

// TestUpgradeBackendSilent: a backend that accepts the connection but
// never answers the handshake gets the client a 504 after the response
// timeout, and the slot is released.
func TestUpgradeBackendSilent(t *testing.T) {
	addr := rawBackend(t, func(c net.Conn, br *bufio.Reader) { io.Copy(io.Discard, br) })
	p := newTestPool(t, "ws", addr)
	l := startTCPLB(t, NewHandler("public", Routes{Default: &Upstream{Pool: p, ResponseTimeout: 300 * time.Millisecond,
		Retry: noRetries(t)}}, nil), ServerOptions{})
	resp := l.conn(t).raw("GET / HTTP/1.1\r\nHost: lb\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", false)
	wantJSONError(t, resp, fasthttp.StatusGatewayTimeout, "backend timeout", "ws")
	checkReleased(t, p)
}

func noRetries(t *testing.T) RetryPolicy {
	r, err := NewRetryPolicy(RetryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func bufioReader(s string) *bufio.Reader { return bufio.NewReader(bytes.NewReader([]byte(s))) }

// TestUpgradeOutlivesReadTimeout: the listener's read_timeout (and
// read_header_timeout) bound reading a request, not an upgraded
// connection: a busy socket keeps working long after them, until its own
// idle timeout.
func TestUpgradeOutlivesReadTimeout(t *testing.T) {
	const readTimeout = 400 * time.Millisecond
	be := startWSBackend(t, "b1")
	p := newTestPool(t, "ws", be.addr)
	l := startTCPLB(t, NewHandler("public", Routes{Default: &Upstream{Pool: p}}, nil),
		ServerOptions{ReadTimeout: readTimeout, IdleTimeout: 30 * time.Second})
	c, _ := dialWS(t, l.addr(t))
	opened := time.Now()
	for time.Since(opened) < 5*readTimeout {
		echo(t, c, websocket.MessageText, "tick")
		time.Sleep(readTimeout / 8)
	}
	echo(t, c, websocket.MessageText, "still open")
}
