package proxy

import (
	"strings"
	"sync/atomic"
	"testing"
)

func TestBodyLimit413(t *testing.T) {
	var n atomic.Int64
	up := &Upstream{Pool: newTestPool(t, "web", okBackend(t, "ok", &n))}
	l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{MaxRequestBodySize: 1024})

	if resp := l.post(t, "/", strings.Repeat("a", 1024)); resp.StatusCode() != 200 {
		t.Fatalf("body at the limit: %d %q", resp.StatusCode(), resp.Body())
	}
	wantJSONError(t, l.post(t, "/", strings.Repeat("a", 2048)), 413, "request body too large", "")
	if n.Load() != 1 {
		t.Errorf("backend saw %d requests, want 1 (the oversized one is never forwarded)", n.Load())
	}
	checkReleased(t, up.Pool)
}

func TestMalformedRequest400(t *testing.T) {
	var n atomic.Int64
	up := &Upstream{Pool: newTestPool(t, "web", okBackend(t, "ok", &n))}
	l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
	wantJSONError(t, l.conn(t).raw("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n", false), 400, "ambiguous request framing", "")
	if n.Load() != 0 {
		t.Errorf("backend saw %d requests, want 0", n.Load())
	}
}
