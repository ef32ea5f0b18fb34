package proxy

import (
	"strings"
	"sync"
	"testing"

	"github.com/valyala/fasthttp"
)

// idBackend records the X-Request-Id fields of each request it gets.
type idBackend struct {
	mu   sync.Mutex
	seen [][]string
}

func (b *idBackend) serve(ctx *fasthttp.RequestCtx) {
	var ids []string
	for k, v := range ctx.Request.Header.All() {
		if strings.EqualFold(string(k), "X-Request-Id") {
			ids = append(ids, string(v))
		}
	}
	b.mu.Lock()
	b.seen = append(b.seen, ids)
	b.mu.Unlock()
	ctx.Response.Header.Set("X-Request-Id", "from-the-backend")
	ctx.SetBodyString("ok")
}

func (b *idBackend) last() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seen[len(b.seen)-1]
}

// TestRequestID: generated when absent, kept from a trusted peer,
// replaced from an untrusted one; the backend gets exactly one, and the
// client gets the same one back.
func TestRequestID(t *testing.T) {
	tests := []struct {
		name    string
		trusted bool
		sent    string // raw header lines
		keep    string // the ID that must be kept; "" for a new one
	}{
		{"absent", false, "", ""},
		{"absent, trusted peer", true, "", ""},
		{"trusted peer", true, "X-Request-Id: abc-123\r\n", "abc-123"},
		{"trusted peer, lower case", true, "x-request-id: abc-123\r\n", "abc-123"},
		{"untrusted peer", false, "X-Request-Id: abc-123\r\n", ""},
		{"untrusted peer, lower case", false, "x-request-id: abc-123\r\n", ""},
		{"trusted peer, two fields", true, "X-Request-Id: a\r\nX-Request-Id: b\r\n", ""},
		{"trusted peer, space inside", true, "X-Request-Id: a b\r\n", ""},
		{"trusted peer, too long", true, "X-Request-Id: " + strings.Repeat("a", 129) + "\r\n", ""},
	}
	be := &idBackend{}
	addr := startBackend(t, be.serve)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHandler("public", Routes{Default: &Upstream{Pool: newTestPool(t, "web", addr)}}, nil)
			if tt.trusted {
				trustLoopback(h)
			}
			l := startTCPLB(t, h, ServerOptions{})
			resp := l.conn(t).raw("GET / HTTP/1.1\r\nHost: x\r\n"+tt.sent+"\r\n", false)
			if resp.StatusCode() != 200 {
				t.Fatalf("status %d", resp.StatusCode())
			}
			var back []string
			for k, v := range resp.Header.All() {
				if strings.EqualFold(string(k), "X-Request-Id") {
					back = append(back, string(v))
				}
			}
			got := be.last()
			if len(got) != 1 || len(back) != 1 || got[0] != back[0] {
				t.Fatalf("backend got %q, client got %q: want one, the same", got, back)
			}
			switch {
			case tt.keep != "" && got[0] != tt.keep:
				t.Errorf("id %q, want %q kept", got[0], tt.keep)
			case tt.keep == "" && (len(got[0]) != requestIDLen || strings.Contains(tt.sent, got[0])):
				t.Errorf("id %q, want a new one", got[0])
			}
		})
	}
}

// TestRequestIDsUnique: IDs of one handler differ, and two handlers do
// not share a prefix.
func TestRequestIDsUnique(t *testing.T) {
	var a, b requestIDs
	a.init()
	b.init()
	seen := map[string]bool{}
	var buf [requestIDLen]byte
	for range 10000 {
		id := string(a.next(&buf))
		if seen[id] {
			t.Fatalf("%s twice", id)
		}
		seen[id] = true
	}
	if a.prefix == b.prefix {
		t.Errorf("two handlers share the prefix %s", a.prefix)
	}
	if id := b.next(&buf); strings.Trim(string(id), "0123456789abcdef") != "" {
		t.Errorf("id %q is not hex", id)
	}
}
