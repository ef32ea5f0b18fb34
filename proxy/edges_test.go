package proxy

import (
	"bufio"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// TestExpectContinue: a client that sends "Expect: 100-continue" gets
// "100 Continue", then sends its body and gets the backend's answer; the
// backend gets the body without Expect (the LB already holds it). A
// request the guard refuses gets its refusal instead of 100 Continue.
func TestExpectContinue(t *testing.T) {
	be := startCaptureBackend(t)
	up := &Upstream{Pool: newTestPool(t, "web", be.addr)}
	l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})

	c := l.conn(t)
	_ = c.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.c.Write([]byte("PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	line, err := c.br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("interim answer %q, %v", line, err)
	}
	if blank, err := c.br.ReadString('\n'); err != nil || blank != "\r\n" {
		t.Fatalf("after 100 Continue: %q, %v", blank, err)
	}
	resp := c.raw("hello", false)
	if resp.StatusCode() != 200 || string(resp.Body()) != "ok" {
		t.Fatalf("answer %d %q", resp.StatusCode(), resp.Body())
	}
	seen := be.requests()
	if len(seen) != 1 || seen[0].body != "hello" || seen[0].method != "PUT" {
		t.Fatalf("backend got %+v", seen)
	}
	if v, ok := seen[0].header["Expect"]; ok {
		t.Errorf("Expect forwarded: %q", v)
	}

	// Refused before any body: no 100 Continue.
	c = l.conn(t)
	resp = c.raw("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\nExpect: 100-continue\r\n\r\n", false)
	wantJSONError(t, resp, 501, "transfer coding not implemented", "")
	wantClosed(t, c)
	if n := len(be.requests()); n != 1 {
		t.Errorf("backend got %d requests, want 1", n)
	}
}

// TestHeadKeepsContentLength: the answer to HEAD keeps the backend's
// Content-Length and carries no body, and the connection stays in step.
func TestHeadKeepsContentLength(t *testing.T) {
	be := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			req, ok := readRequest(br)
			if !ok {
				return
			}
			a := "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
			if !req.Header.IsHead() {
				a = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nget"
			}
			if _, err := c.Write([]byte(a)); err != nil {
				return
			}
		}
	})
	up := &Upstream{Pool: newTestPool(t, "web", be)}
	l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
	c := l.conn(t)
	resp := c.raw("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", true)
	if resp.StatusCode() != 200 || resp.Header.ContentLength() != 1234 {
		t.Fatalf("HEAD: %d, Content-Length %d", resp.StatusCode(), resp.Header.ContentLength())
	}
	// A body after the HEAD answer would be read as the next answer.
	if resp := c.raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n", false); resp.StatusCode() != 200 || string(resp.Body()) != "get" {
		t.Fatalf("GET after HEAD: %d %q", resp.StatusCode(), resp.Body())
	}
	checkReleased(t, up.Pool)
}

// TestTrailers: a chunked request with trailer fields reaches the backend
// with its body intact and one Content-Length, the trailer fields
// dropped; a chunked answer with trailer fields reaches the client with
// its body intact, the trailer fields dropped; neither hangs and the connection stays usable.
func TestTrailers(t *testing.T) {
	be := startCaptureBackend(t)
	up := &Upstream{Pool: newTestPool(t, "web", be.addr)}
	l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
	c := l.conn(t)
	resp := c.raw("POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"+
		"5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n", false)
	if resp.StatusCode() != 200 {
		t.Fatalf("status %d %q", resp.StatusCode(), resp.Body())
	}
	seen := be.requests()
	if len(seen) != 1 || seen[0].body != "hello world" || seen[0].framing != "" {
		t.Fatalf("backend got %+v", seen)
	}
	if cl := seen[0].header.Get("Content-Length"); cl != "11" {
		t.Errorf("Content-Length %q, want 11", cl)
	}
	for _, k := range []string{"X-Checksum", "Trailer", "Transfer-Encoding"} {
		if v, ok := seen[0].header[k]; ok {
			t.Errorf("%s forwarded: %q", k, v)
		}
	}
	if resp := c.raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n", false); resp.StatusCode() != 200 {
		t.Errorf("next request: %d", resp.StatusCode())
	}

	chunked := answeringBackend(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"+
		"3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n")
	up2 := &Upstream{Pool: newTestPool(t, "chunky", chunked)}
	l2 := startLB(t, NewHandler("public", Routes{Default: up2}, nil), ServerOptions{})
	c2 := l2.conn(t)
	for i := 0; i < 2; i++ {
		resp := c2.raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n", false)
		if resp.StatusCode() != 200 || string(resp.Body()) != "abc" {
			t.Fatalf("answer %d: %d %q", i, resp.StatusCode(), resp.Body())
		}
		if v := resp.Header.Peek("X-Sum"); v != nil {
			t.Errorf("answer %d: trailer field X-Sum became a header: %q", i, v)
		}
	}
	checkReleased(t, up.Pool)
	checkReleased(t, up2.Pool)
}

// TestErrorBodiesNameOnlyThePool: the LB's own 5xx answers carry a fixed
// message and the pool name, never the backend's address or the
// transport error text.
func TestErrorBodiesNameOnlyThePool(t *testing.T) {
	refused := refusedAddr(t)
	slow := startBackend(t, func(ctx *fasthttp.RequestCtx) { time.Sleep(300 * time.Millisecond) })
	var seen atomic.Int64
	reset := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, ok := readRequest(br); ok {
			seen.Add(1)
			_ = c.(*net.TCPConn).SetLinger(0)
		}
	})
	for _, tc := range []struct {
		name, addr string
		timeout    time.Duration
		status     int
	}{
		{"connection refused", refused, 0, 502},
		{"reset", reset, 0, 502},
		{"timeout", slow, 50 * time.Millisecond, 504},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := &Upstream{Pool: newTestPool(t, "web", tc.addr), ResponseTimeout: tc.timeout}
			l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
			resp := l.get(t, "x", "/")
			body := string(resp.Body())
			if resp.StatusCode() != tc.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode(), tc.status, body)
			}
			_, port, _ := net.SplitHostPort(tc.addr)
			for _, leak := range []string{tc.addr, "127.0.0.1", port, "dial", "tcp", "connection reset", "timeout after", "EOF"} {
				if strings.Contains(body, leak) {
					t.Errorf("body %s contains %q", body, leak)
				}
			}
			if !strings.Contains(body, `"pool":"web"`) {
				t.Errorf("body %s does not name the pool", body)
			}
		})
	}
}
