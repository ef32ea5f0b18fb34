package proxy

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// TestPeerTrusted checks the trust decision on the peer address alone.
func TestPeerTrusted(t *testing.T) {
	prefixes := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	tests := []struct {
		addr net.Addr
		want bool
	}{
		{&net.TCPAddr{IP: net.IPv4(10, 1, 2, 3)}, true},      // 16-byte IPv4 form
		{&net.TCPAddr{IP: net.IP{10, 255, 0, 1}}, true},      // 4-byte form
		{&net.TCPAddr{IP: net.IPv4(11, 0, 0, 1)}, false},     //
		{&net.TCPAddr{IP: net.ParseIP("2001:db8::1")}, true}, //
		{&net.TCPAddr{IP: net.ParseIP("2001:db9::1")}, false},
		{&net.TCPAddr{IP: nil}, false},
		{&net.UnixAddr{Name: "x"}, false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := peerTrusted(prefixes, tt.addr); got != tt.want {
			t.Errorf("peerTrusted(%v) = %v, want %v", tt.addr, got, tt.want)
		}
	}
	if peerTrusted(nil, &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3)}) {
		t.Error("an empty list trusts a peer")
	}
}

// TestTrustDecision: trusted/untrusted peer × X-Forwarded-* present/absent.
func TestTrustDecision(t *testing.T) {
	tests := []struct {
		name               string
		peer               net.IP
		present            bool
		xff, proto, fwHost string
	}{
		{"trusted, present", net.IPv4(10, 0, 0, 5), true, "203.0.113.7, 198.51.100.1, 10.0.0.5", "https", "orig.example"},
		{"trusted, absent", net.IPv4(10, 0, 0, 5), false, "10.0.0.5", "http", "lb.example"},
		{"untrusted, present", net.IPv4(192, 0, 2, 9), true, "192.0.2.9", "http", "lb.example"},
		{"untrusted, absent", net.IPv4(192, 0, 2, 9), false, "192.0.2.9", "http", "lb.example"},
	}
	h := NewHandler("public", Routes{}, nil)
	h.SetTrustedProxies([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &fasthttp.Request{}
			in.Header.DisableNormalizing()
			in.SetRequestURI("/x")
			in.Header.SetHost("lb.example")
			if tt.present {
				in.Header.Set("x-forwarded-for", "203.0.113.7")
				in.Header.Add("X-Forwarded-For", "198.51.100.1")
				in.Header.Set("X-Forwarded-Proto", "https")
				in.Header.Set("x-forwarded-host", "orig.example")
			}
			var ctx fasthttp.RequestCtx
			ctx.Init(in, &net.TCPAddr{IP: tt.peer, Port: 4000}, nil)
			out := &fasthttp.Request{}
			prepareRequest(out, &ctx, h.trustedPeer(&ctx))
			hdr := strings.ToLower(string(out.Header.Header()))
			for name, want := range map[string]string{"x-forwarded-for": tt.xff, "x-forwarded-proto": tt.proto, "x-forwarded-host": tt.fwHost} {
				if n := strings.Count(hdr, name+":"); n != 1 {
					t.Errorf("%d %s fields, want 1:\n%s", n, name, out.Header.Header())
				}
				var got string
				for k, v := range out.Header.All() {
					if equalFold(k, name) {
						got = string(v)
					}
				}
				if got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

// TestTrustedProxiesEndToEnd sends the same request through a TCP
// listener with its peer (127.0.0.1) trusted and not trusted.
func TestTrustedProxiesEndToEnd(t *testing.T) {
	got := make(chan string, 1)
	backend := startBackend(t, func(ctx *fasthttp.RequestCtx) {
		h := &ctx.Request.Header
		got <- string(h.Peek("X-Forwarded-For")) + "|" + string(h.Peek("X-Forwarded-Proto")) + "|" + string(h.Peek("X-Forwarded-Host"))
	})
	req := "GET / HTTP/1.1\r\nHost: lb.example\r\n" +
		"X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: orig.example\r\n\r\n"
	for _, tt := range []struct {
		name    string
		trusted []netip.Prefix
		want    string
	}{
		{"untrusted by default", nil, "127.0.0.1|http|lb.example"},
		{"other network only", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "127.0.0.1|http|lb.example"},
		{"trusted", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")},
			"203.0.113.7, 127.0.0.1|https|orig.example"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			up := &Upstream{Pool: newTestPool(t, "web", backend)}
			h := NewHandler("public", Routes{Default: up}, nil)
			h.SetTrustedProxies(tt.trusted)
			l := startTCPLB(t, h, ServerOptions{})
			if resp := l.conn(t).raw(req, false); resp.StatusCode() != 200 {
				t.Fatalf("status %d %q", resp.StatusCode(), resp.Body())
			}
			if g := <-got; g != tt.want {
				t.Errorf("backend got %q, want %q", g, tt.want)
			}
			checkReleased(t, up.Pool)
		})
	}
}

// TestTrustCheckAllocs pins the per-request trust check at zero
// allocations.
func TestTrustCheckAllocs(t *testing.T) {
	h := NewHandler("public", Routes{}, nil)
	h.SetTrustedProxies([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")})
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 4000}, nil)
	if n := testing.AllocsPerRun(200, func() { _ = h.trustedPeer(&ctx) }); n != 0 {
		t.Errorf("trust check: %.1f allocs/op, want 0", n)
	}
	ctx.Request.Header.SetHost("lb.example")
	ctx.Request.Header.Set("X-Forwarded-For", "203.0.113.7")
	ctx.Request.Header.Set("X-Forwarded-Proto", "https")
	out := &fasthttp.Request{}
	for _, trusted := range []bool{false, true} {
		prepareRequest(out, &ctx, trusted) // warm
		if n := testing.AllocsPerRun(200, func() { prepareRequest(out, &ctx, trusted) }); n != 0 {
			t.Errorf("prepareRequest(trusted=%v): %.1f allocs/op, want 0", trusted, n)
		}
	}
}
