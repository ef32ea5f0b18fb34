package proxy

import (
	"testing"

	"github.com/valyala/fasthttp"
)

func TestRedirectHost(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"example.com", "example.com", true},
		{"example.com:8080", "example.com", true},
		{"EXAMPLE.com", "EXAMPLE.com", true},
		{"127.0.0.1:80", "127.0.0.1", true},
		{"[::1]", "[::1]", true},
		{"[2001:db8::1]:8080", "[2001:db8::1]", true},
		{"", "", false},
		{":8080", "", false},
		{"example.com:", "", false},
		{"example.com:80x", "", false},
		{"a@b", "", false},
		{"evil.com/x", "", false},
		{"[::1", "", false},
		{"[]", "", false},
		{"[::1]x", "", false},
		{"[::1%25eth0]", "", false},
	} {
		got, ok := redirectHost([]byte(tc.in))
		if ok != tc.ok || (ok && string(got) != tc.want) {
			t.Errorf("redirectHost(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestRedirectTarget(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/", "/"},
		{"/a/../b?q=1", "/a/../b?q=1"},
		{"http://example.com/x?y", "/x?y"},
		{"http://example.com", "/"},
		{"*", "/"},
		{"", "/"},
	} {
		if got := redirectTarget([]byte(tc.in)); string(got) != tc.want {
			t.Errorf("redirectTarget(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestRedirectHTTPSAllocs: a redirect allocates nothing once the
// request's buffers are warm, and SetRedirectHTTPS(0) routes again.
func TestRedirectHTTPSAllocs(t *testing.T) {
	h := &Handler{}
	h.SetRedirectHTTPS(443)
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/path?q=1")
	ctx.Request.Header.SetHost("example.com:8080")
	h.ServeHTTP(&ctx)
	if got := string(ctx.Response.Header.Peek("Location")); ctx.Response.StatusCode() != 308 || got != "https://example.com/path?q=1" {
		t.Fatalf("%d Location %q", ctx.Response.StatusCode(), got)
	}
	if n := testing.AllocsPerRun(100, func() { h.ServeHTTP(&ctx) }); n != 0 {
		t.Errorf("redirect allocates %.1f times per request", n)
	}
}
