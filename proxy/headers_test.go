package proxy

import (
	"bufio"
	"net"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// TestHeaders checks, both ways, that hop-by-hop fields (the fixed list
// and those named in Connection) are stripped, X-Forwarded-* from an
// untrusted peer are replaced, Host, header name case and the path are kept, and that a
// backend's "Connection: close" does not close the client's connection.
func TestHeaders(t *testing.T) {
	got := make(chan *fasthttp.Request, 2)
	backend := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			req, ok := readRequest(br)
			if !ok {
				return
			}
			got <- req
			// Chunked, "Connection: close" and a Connection-named field,
			// all hop-by-hop.
			_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\n" +
				"Content-Type: text/plain\r\n" +
				"connection: close, X-Resp-Hop\r\n" +
				"X-Resp-Hop: secret\r\n" +
				"Keep-Alive: timeout=5\r\n" +
				"Proxy-Authenticate: Basic\r\n" +
				"Upgrade: h2c\r\n" +
				"x-Resp-End2End: kept\r\n" +
				"Transfer-Encoding: chunked\r\n" +
				"\r\n" +
				"5\r\nhello\r\n0\r\n\r\n"))
			return // and close, as announced
		}
	})
	up := &Upstream{Pool: newTestPool(t, "web", backend)}
	l := startTCPLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
	c := l.conn(t)

	for i := 0; i < 2; i++ { // the second request reuses the client connection
		resp := c.raw("GET /a//b/../c%2Fd?q=1&q=2 HTTP/1.1\r\n"+
			"Host: WWW.Example.com:8080\r\n"+
			"Connection: keep-alive, X-Hop-Named\r\n"+
			"X-Hop-Named: drop me\r\n"+
			"Keep-Alive: timeout=10\r\n"+
			"Proxy-Connection: keep-alive\r\n"+
			"Proxy-Authorization: Basic Zm9vOmJhcg==\r\n"+
			"TE: trailers\r\n"+
			"Upgrade: websocket\r\n"+
			"x-forwarded-for: 203.0.113.7\r\n"+
			"X-Forwarded-For: 198.51.100.1, 10.0.0.1\r\n"+
			"X-Forwarded-Proto: https\r\n"+
			"X-Forwarded-Host: spoofed.example\r\n"+
			"x-lower-Case: kept\r\n"+
			"\r\n", false)

		if resp.StatusCode() != 200 || string(resp.Body()) != "hello" {
			t.Fatalf("answer %d: %d %q", i, resp.StatusCode(), resp.Body())
		}
		if resp.ConnectionClose() {
			t.Errorf("answer %d: backend's Connection: close reached the client", i)
		}
		raw := string(resp.Header.Header())
		for _, bad := range []string{"X-Resp-Hop", "Keep-Alive", "Proxy-Authenticate", "Upgrade", "Transfer-Encoding", "secret"} {
			if strings.Contains(strings.ToLower(raw), strings.ToLower(bad)) {
				t.Errorf("answer %d: hop-by-hop %q reached the client:\n%s", i, bad, raw)
			}
		}
		if !strings.Contains(raw, "x-Resp-End2End: kept") {
			t.Errorf("answer %d: end-to-end field lost or renamed:\n%s", i, raw)
		}

		req := <-got
		hdr := headerLines(req)
		if uri := string(req.Header.RequestURI()); uri != "/a//b/../c%2Fd?q=1&q=2" {
			t.Errorf("request URI %q, want it as received", uri)
		}
		if host := string(req.Header.Host()); host != "WWW.Example.com:8080" {
			t.Errorf("Host %q, want it as received", host)
		}
		for _, bad := range []string{"Connection", "X-Hop-Named", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "\nTE:", "Upgrade", "spoofed", "https"} {
			if strings.Contains(strings.ToLower(hdr), strings.ToLower(bad)) {
				t.Errorf("request %d: hop-by-hop or spoofed %q reached the backend:\n%s", i, bad, hdr)
			}
		}
		for _, want := range []string{
			"X-Forwarded-For: 127.0.0.1\n", // the peer is not a trusted proxy
			"X-Forwarded-Proto: http\n",
			"X-Forwarded-Host: WWW.Example.com:8080\n",
			"x-lower-Case: kept\n",
		} {
			if !strings.Contains(hdr, want) {
				t.Errorf("request %d: missing %q in:\n%s", i, want, hdr)
			}
		}
		if n := strings.Count(strings.ToLower(hdr), "x-forwarded-for"); n != 1 {
			t.Errorf("request %d: %d X-Forwarded-For fields, want 1:\n%s", i, n, hdr)
		}
		if string(req.Header.UserAgent()) != "" {
			t.Errorf("request %d: a User-Agent was added: %q", i, req.Header.UserAgent())
		}
	}
	checkReleased(t, up.Pool)
}

// TestHeadersFirstForwarder checks X-Forwarded-For when the client sent
// none, and a request body and Expect handling.
func TestHeadersFirstForwarder(t *testing.T) {
	got := make(chan *fasthttp.Request, 1)
	backend := startBackend(t, func(ctx *fasthttp.RequestCtx) {
		r := &fasthttp.Request{}
		ctx.Request.CopyTo(r)
		got <- r
		ctx.SetBodyString("ok")
	})
	up := &Upstream{Pool: newTestPool(t, "web", backend)}
	l := startTCPLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
	c := l.conn(t)
	if _, err := c.c.Write([]byte("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	line, err := c.br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("want 100 Continue, got %q, %v", line, err)
	}
	if _, err := c.br.ReadString('\n'); err != nil { // blank line after 100
		t.Fatal(err)
	}
	resp := c.raw("hello", false)
	if resp.StatusCode() != 200 {
		t.Fatalf("status %d", resp.StatusCode())
	}
	req := <-got
	if v := string(req.Header.Peek("X-Forwarded-For")); v != "127.0.0.1" {
		t.Errorf("X-Forwarded-For %q, want 127.0.0.1", v)
	}
	if string(req.Body()) != "hello" {
		t.Errorf("body %q", req.Body())
	}
	if v := req.Header.Peek("Expect"); v != nil {
		t.Errorf("Expect reached the backend: %q", v)
	}
}

func TestInTokenList(t *testing.T) {
	list := []byte("keep-alive, X-Foo ,\tx-bar,")
	for k, want := range map[string]bool{"X-Foo": true, "x-foo": true, "X-Bar": true, "keep-alive": true, "X-Fo": false, "": false, "close": false} {
		if got := inTokenList(list, []byte(k)); got != want {
			t.Errorf("inTokenList(%q) = %v, want %v", k, got, want)
		}
	}
}

// TestAbsoluteForm: a request-target in absolute form is routed by its
// authority, which also replaces Host (RFC 9112 section 3.2.2); the
// backend gets the origin form, in plain HTTP whatever the scheme said.
func TestAbsoluteForm(t *testing.T) {
	got := make(chan string, 2)
	backend := startBackend(t, func(ctx *fasthttp.RequestCtx) {
		got <- string(ctx.Request.Header.RequestURI()) + " " + string(ctx.Request.Header.Host()) +
			" " + string(ctx.Request.Header.Peek("X-Forwarded-Host"))
	})
	up := &Upstream{Pool: newTestPool(t, "api", backend)}
	other := &Upstream{Pool: newTestPool(t, "web")} // empty: 503 if chosen
	l := startLB(t, NewHandler("public", Routes{Default: other, Routes: []Route{{Host: "api.example.com", Upstream: up}}}, nil), ServerOptions{})
	for _, target := range []string{"http://api.example.com/x?y=1", "https://api.example.com:8443/x?y=1"} {
		resp := l.conn(t).raw("GET "+target+" HTTP/1.1\r\nHost: www.example.com\r\n\r\n", false)
		if resp.StatusCode() != 200 {
			t.Fatalf("%s: %d %q", target, resp.StatusCode(), resp.Body())
		}
		if g, want := <-got, "/x?y=1 api.example.com"; !strings.HasPrefix(g, want) {
			t.Errorf("%s: backend got %q, want prefix %q", target, g, want)
		}
	}
}
