package proxy

import (
	"bytes"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbtrust/lb/balancer"
	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
)

// cookieBackend answers 200 with its name and remembers the last Cookie
// header it got.
type cookieBackend struct {
	mu   sync.Mutex
	last string
}

func (c *cookieBackend) start(t *testing.T, name string) string {
	return startBackend(t, func(ctx *fasthttp.RequestCtx) {
		c.mu.Lock()
		c.last = string(ctx.Request.Header.Peek("Cookie"))
		c.mu.Unlock()
		ctx.SetBodyString(name)
	})
}

func (c *cookieBackend) lastCookie() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// setCookie returns the value of the cookie name that resp sets, and the
// whole Set-Cookie line; "" when it sets none.
func setCookie(resp *fasthttp.Response, name string) (value, line string) {
	c := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(c)
	c.SetKey(name)
	if !resp.Header.Cookie(c) {
		return "", ""
	}
	return string(c.Value()), c.String()
}

// stickyLB starts an LB over three backends with sticky sessions on pool
// "web" (round robin underneath).
func stickyLB(t *testing.T) (*lb, *pool.Pool, map[string]string, *cookieBackend) {
	t.Helper()
	var seen cookieBackend
	names := map[string]string{}
	var addrs []string
	for _, n := range []string{"b1", "b2", "b3"} {
		a := seen.start(t, n)
		names[n] = a
		addrs = append(addrs, a)
	}
	p := newTestPool(t, "web", addrs...)
	up := &Upstream{Pool: p, Sticky: &StickyOptions{Cookie: "lb_web", TTL: time.Hour, Key: []byte("0123456789abcdef0123456789abcdef")}}
	l := startTCPLB(t, NewHandler("l", Routes{Default: up}, nil), ServerOptions{})
	return l, p, names, &seen
}

// getWithCookie sends GET / with cookie (none when "") on c.
func getWithCookie(c *conn, cookie string) *fasthttp.Response {
	c.t.Helper()
	req := "GET / HTTP/1.1\r\nHost: lb\r\n"
	if cookie != "" {
		req += "Cookie: " + cookie + "\r\n"
	}
	return c.raw(req+"\r\n", false)
}

// TestStickySession: the first answer sets the cookie; 1,000 requests
// carrying it stay on that backend (without a new cookie, and the backend
// never sees it); draining the backend sends the next request elsewhere
// with a new cookie, which then holds.
func TestStickySession(t *testing.T) {
	l, p, names, seen := stickyLB(t)
	c := l.conn(t)
	resp := getWithCookie(c, "")
	first := string(resp.Body())
	value, line := setCookie(resp, "lb_web")
	if value == "" {
		t.Fatalf("first answer sets no sticky cookie: %s", resp.Header.String())
	}
	if len(value) != stickyValueLen || strings.Contains(value, "127.0.0.1") || strings.Contains(line, "127.0.0.1") {
		t.Fatalf("cookie %q names its backend in clear or has the wrong shape", line)
	}
	for _, attr := range []string{"path=/", "HttpOnly", "SameSite=Lax", "max-age=3600"} {
		if !strings.Contains(strings.ToLower(line), strings.ToLower(attr)) {
			t.Errorf("Set-Cookie %q lacks %s", line, attr)
		}
	}
	for i := range 1000 {
		resp := getWithCookie(c, "other=1; lb_web="+value)
		if got := string(resp.Body()); got != first {
			t.Fatalf("request %d went to %s, the session is on %s", i, got, first)
		}
		if v, _ := setCookie(resp, "lb_web"); v != "" {
			t.Fatalf("request %d re-set the cookie to %q", i, v)
		}
	}
	if got := seen.lastCookie(); strings.Contains(got, "lb_web") || !strings.Contains(got, "other=1") {
		t.Fatalf("backend got Cookie %q: want other=1 without lb_web", got)
	}

	if err := p.Drain(names[first]); err != nil {
		t.Fatal(err)
	}
	resp = getWithCookie(c, "lb_web="+value)
	moved := string(resp.Body())
	if moved == first {
		t.Fatalf("request after the drain still went to %s", first)
	}
	value2, _ := setCookie(resp, "lb_web")
	if value2 == "" || value2 == value {
		t.Fatalf("request moved to %s without a new cookie (got %q, had %q)", moved, value2, value)
	}
	for i := range 100 {
		if got := string(getWithCookie(c, "lb_web="+value2).Body()); got != moved {
			t.Fatalf("request %d after the move went to %s, the session is now on %s", i, got, moved)
		}
	}
	checkReleased(t, p)
}

// TestStickyForgedCookieIgnored: a forged, garbled or clear-text cookie
// names no backend: the request is picked as usual and gets a real
// cookie.
func TestStickyForgedCookieIgnored(t *testing.T) {
	l, p, names, _ := stickyLB(t)
	c := l.conn(t)
	valid, _ := setCookie(getWithCookie(c, ""), "lb_web")
	forged := []byte(valid)
	forged[0] ^= 1 // one bit off: still base64, a tag nobody signed
	if forged[0] == valid[0] {
		t.Fatal("no change")
	}
	for _, bad := range []string{
		string(forged),
		"AAAAAAAAAAAAAAAAAAAAAA",
		"!!not base64 at all!!!",
		names["b1"],
		strings.Repeat("A", 500),
		"",
	} {
		counts := map[string]int{}
		for range 6 {
			resp := getWithCookie(c, "lb_web="+bad)
			if resp.StatusCode() != 200 {
				t.Fatalf("cookie %q: status %d", bad, resp.StatusCode())
			}
			counts[string(resp.Body())]++
			if v, _ := setCookie(resp, "lb_web"); v == "" || v == bad {
				t.Fatalf("cookie %q: answer sets %q, want a real cookie", bad, v)
			}
		}
		if len(counts) != 3 {
			t.Fatalf("cookie %q: requests went to %v, want round robin over all three (the cookie ignored)", bad, counts)
		}
	}
	// A cookie signed with another key names nothing either.
	other := &sticky{cookie: "lb_web", key: []byte("another key, 32 bytes long......"), pool: p}
	tag := other.tagOf(names["b1"])
	var v [stickyValueLen]byte
	encodeTag(v[:], tag)
	resp := getWithCookie(c, "lb_web="+string(v[:]))
	if got, _ := setCookie(resp, "lb_web"); got == "" || got == string(v[:]) {
		t.Fatalf("a cookie of another key was taken: answer sets %q", got)
	}
	checkReleased(t, p)
}

// TestConsistentHashByHeader: through the proxy, one X-User always lands
// on one backend; different users spread.
func TestConsistentHashByHeader(t *testing.T) {
	var counts [3]atomic.Int64
	var addrs []string
	for i, n := range []string{"b1", "b2", "b3"} {
		addrs = append(addrs, okBackend(t, n, &counts[i]))
	}
	p := newTestPool(t, "web", addrs...)
	p.SetPolicy(balancer.NewConsistentHash(balancer.DefaultLoadFactor))
	up := &Upstream{Pool: p, Key: KeySource{Kind: KeyHeader, Name: "X-User"}}
	l := startTCPLB(t, NewHandler("l", Routes{Default: up}, nil), ServerOptions{})
	c := l.conn(t)
	home := map[string]string{}
	for round := range 5 {
		for u := range 30 {
			user := "user-" + itoa(u)
			got := string(c.raw("GET / HTTP/1.1\r\nHost: lb\r\nX-User: "+user+"\r\n\r\n", false).Body())
			if round == 0 {
				home[user] = got
			} else if got != home[user] {
				t.Fatalf("%s went to %s, then to %s", user, home[user], got)
			}
		}
	}
	for i := range counts {
		if counts[i].Load() == 0 {
			t.Errorf("backend %d got no user of 30", i+1)
		}
	}
	// Without the header: round robin.
	var bodies [][]byte
	for range 3 {
		bodies = append(bodies, c.raw("GET / HTTP/1.1\r\nHost: lb\r\n\r\n", false).Body())
	}
	if bytes.Equal(bodies[0], bodies[1]) || bytes.Equal(bodies[1], bodies[2]) {
		t.Fatalf("keyless requests did not rotate: %q", bodies)
	}
	checkReleased(t, p)
}
