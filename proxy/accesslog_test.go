package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/lbtrust/lb/accesslog"
	"github.com/valyala/fasthttp"
)

// trustLoopback makes h trust peers on 127.0.0.0/8 and returns it.
func trustLoopback(h *Handler) *Handler {
	h.SetTrustedProxies([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
	return h
}

// logSink collects an access log's lines.
type logSink struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// lines parses the lines written so far.
func (s *logSink) lines(t testing.TB) []map[string]any {
	t.Helper()
	s.mu.Lock()
	text := s.b.String()
	s.mu.Unlock()
	var out []map[string]any
	for line := range strings.Lines(text) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %v: %q", err, line)
		}
		out = append(out, m)
	}
	return out
}

// wait polls until n lines are written and returns them.
func (s *logSink) wait(t *testing.T, n int) []map[string]any {
	t.Helper()
	var got []map[string]any
	eventually(t, "access log lines", func() bool {
		got = s.lines(t)
		return len(got) >= n
	})
	return got
}

// withAccessLog gives h a JSON access log into a sink, closed when the
// test ends.
func withAccessLog(t testing.TB, h *Handler) *logSink {
	t.Helper()
	sink := &logSink{}
	l, err := accesslog.New(accesslog.Options{Writer: sink})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close(context.Background()) })
	h.SetAccessLog(l)
	return sink
}

// everyField are the keys of a JSON line.
var everyField = []string{"time", "kind", "listener", "client", "method", "host", "target", "protocol",
	"status", "bytes_in", "bytes_out", "duration_ms", "backend_ms", "pool", "backend", "attempts",
	"retries", "rescued", "request_id", "user_agent", "referer", "tls_version", "sni", "end"}

// checkLine fails t unless line has every field and the given values.
func checkLine(t *testing.T, line map[string]any, want map[string]any) {
	t.Helper()
	for _, k := range everyField {
		if _, ok := line[k]; !ok {
			t.Errorf("field %q missing: %v", k, line)
		}
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %#v, want %#v (line %v)", k, line[k], v, line)
		}
	}
}

// TestAccessLogPlainRequest: a GET gives one line with every field, and
// its request ID is the one the client and the backend saw.
func TestAccessLogPlainRequest(t *testing.T) {
	var seenID atomic.Value
	addr := startBackend(t, func(ctx *fasthttp.RequestCtx) {
		seenID.Store(string(ctx.Request.Header.Peek("X-Request-Id")))
		ctx.SetBodyString("hello")
	})
	h := NewHandler("public", Routes{Default: &Upstream{Pool: newTestPool(t, "web", addr)}}, nil)
	sink := withAccessLog(t, h)
	l := startTCPLB(t, h, ServerOptions{})
	resp := l.conn(t).raw("POST /a?b=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test/1\r\nReferer: http://r/\r\nContent-Length: 3\r\n\r\nabc", false)
	if resp.StatusCode() != 200 {
		t.Fatalf("status %d", resp.StatusCode())
	}
	id := string(resp.Header.Peek("X-Request-Id"))
	line := sink.wait(t, 1)[0]
	checkLine(t, line, map[string]any{
		"kind": "http", "listener": "public", "method": "POST", "host": "example.com", "target": "/a?b=1",
		"protocol": "HTTP/1.1", "status": 200.0, "bytes_in": 3.0, "bytes_out": 5.0, "pool": "web",
		"backend": addr, "attempts": 1.0, "rescued": false, "request_id": id, "user_agent": "test/1",
		"referer": "http://r/", "tls_version": "", "sni": "", "end": "complete",
	})
	if len(id) != requestIDLen || seenID.Load() != id {
		t.Errorf("request id %q, backend saw %q", id, seenID.Load())
	}
	if c, _ := line["client"].(string); !strings.HasPrefix(c, "127.0.0.1:") {
		t.Errorf("client %q", c)
	}
	if d, _ := line["duration_ms"].(float64); d <= 0 {
		t.Errorf("duration_ms %v", line["duration_ms"])
	}
}

// TestAccessLogRetried: a request retried after a connect failure says
// so; a 502 after a reset says the backend reset it.
func TestAccessLogRetried(t *testing.T) {
	good := startBackend(t, func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("ok") })
	h := NewHandler("public", Routes{Default: &Upstream{Pool: newTestPool(t, "web", refusedAddr(t), good)}}, nil)
	sink := withAccessLog(t, h)
	l := startTCPLB(t, h, ServerOptions{})
	for range 4 { // round robin: some start on the refusing backend
		if resp := l.get(t, "x", "/"); resp.StatusCode() != 200 {
			t.Fatalf("status %d", resp.StatusCode())
		}
	}
	retried := 0
	for _, line := range sink.wait(t, 4) {
		if line["attempts"] == 2.0 {
			retried++
			checkLine(t, line, map[string]any{"status": 200.0, "backend": good, "end": "complete"})
			if r, _ := line["retries"].([]any); len(r) != 1 || r[0] != "connect_failed" {
				t.Errorf("retries %v", line["retries"])
			}
		}
	}
	if retried == 0 {
		t.Fatal("no request was retried: the test proves nothing")
	}
}

func TestAccessLog502(t *testing.T) {
	var n atomic.Int64
	bad := resetBackend(t, &n, "bad", nil)
	h := NewHandler("public", Routes{Default: &Upstream{Pool: newTestPool(t, "web", bad)}}, nil)
	sink := withAccessLog(t, h)
	l := startTCPLB(t, h, ServerOptions{})
	if resp := l.get(t, "x", "/"); resp.StatusCode() != 502 {
		t.Fatalf("status %d", resp.StatusCode())
	}
	checkLine(t, sink.wait(t, 1)[0], map[string]any{"status": 502.0, "backend": bad, "end": "backend_reset", "attempts": 1.0})
}

// TestAccessLogClientAbort: a client that leaves while the backend
// thinks is logged as client_abort.
func TestAccessLogClientAbort(t *testing.T) {
	release := make(chan struct{})
	addr := startBackend(t, func(ctx *fasthttp.RequestCtx) {
		<-release
		ctx.SetBodyString("late")
	})
	h := NewHandler("public", Routes{Default: &Upstream{Pool: newTestPool(t, "web", addr)}}, nil)
	sink := withAccessLog(t, h)
	l := startTCPLB(t, h, ServerOptions{})
	c, err := net.Dial("tcp", l.addr(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	// The backend has the request once the pool counts it in flight.
	eventually(t, "request at the backend", func() bool { return backendNamed(t, h.routes.Load().def.pool, addr).InFlight() == 1 })
	c.Close()
	time.Sleep(50 * time.Millisecond) // let the FIN arrive; not a speed assertion
	close(release)
	checkLine(t, sink.wait(t, 1)[0], map[string]any{"status": 200.0, "target": "/slow", "end": "client_abort"})
}

// TestAccessLogWebSocket: a WebSocket is logged when it closes, with the
// bytes each way.
func TestAccessLogWebSocket(t *testing.T) {
	b := startWSBackend(t, "ws1")
	h := NewHandler("public", Routes{Default: &Upstream{Pool: newTestPool(t, "web", b.addr)}}, nil)
	sink := withAccessLog(t, h)
	l := startTCPLB(t, h, ServerOptions{})
	c, _ := dialWS(t, l.addr(t))
	echo(t, c, websocket.MessageText, "hello through the tunnel")
	if len(sink.lines(t)) != 0 {
		t.Fatal("a line before the WebSocket closed")
	}
	c.Close(websocket.StatusNormalClosure, "")
	line := sink.wait(t, 1)[0]
	checkLine(t, line, map[string]any{"kind": "websocket", "status": 101.0, "backend": b.addr, "target": "/chat", "end": "complete"})
	if in, _ := line["bytes_in"].(float64); in < float64(len("hello through the tunnel")) {
		t.Errorf("bytes_in %v", line["bytes_in"])
	}
	if out, _ := line["bytes_out"].(float64); out < float64(len("hello through the tunnel")) {
		t.Errorf("bytes_out %v", line["bytes_out"])
	}
}

// TestAccessLogStream: a streamed answer is logged when it ends, with
// the bytes relayed.
func TestAccessLogStream(t *testing.T) {
	body := strings.Repeat("x", 100<<10) // over the read buffer: streamed
	addr := startBackend(t, func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString(body) })
	h := NewHandler("public", Routes{Default: &Upstream{Pool: newTestPool(t, "web", addr)}}, nil)
	sink := withAccessLog(t, h)
	l := startTCPLB(t, h, ServerOptions{})
	if resp := l.get(t, "x", "/big"); len(resp.Body()) != len(body) {
		t.Fatalf("got %d bytes", len(resp.Body()))
	}
	checkLine(t, sink.wait(t, 1)[0], map[string]any{"kind": "stream", "status": 200.0, "bytes_out": float64(len(body)), "end": "complete"})
}

// TestAccessLogBlockedWriter: with the log's writer stuck for 5 s,
// requests go through as before; what does not fit is dropped and
// counted.
func TestAccessLogBlockedWriter(t *testing.T) {
	addr := startBackend(t, func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("ok") })
	h := NewHandler("public", Routes{Default: &Upstream{Pool: newTestPool(t, "web", addr)}}, nil)
	w := &stuckWriter{release: make(chan struct{})}
	alog, err := accesslog.New(accesslog.Options{Writer: w, Buffer: 16})
	if err != nil {
		t.Fatal(err)
	}
	h.SetAccessLog(alog)
	timer := time.AfterFunc(5*time.Second, func() { close(w.release) })
	defer timer.Stop()
	l := startTCPLB(t, h, ServerOptions{})
	c := l.conn(t)
	start := time.Now()
	for i := range 200 {
		if resp := c.raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n", false); resp.StatusCode() != 200 {
			t.Fatalf("request %d: %d", i, resp.StatusCode())
		}
	}
	// Not a speed assertion: the 200 requests did not wait for the
	// writer, which is stuck for 5 s.
	if took := time.Since(start); took >= 5*time.Second {
		t.Errorf("200 requests took %v: they waited for the writer", took)
	}
	if st := alog.Stats(); st.Dropped == 0 {
		t.Errorf("nothing dropped with the writer stuck: %+v", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := alog.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st := alog.Stats()
	if st.Written+st.Dropped != 200 {
		t.Errorf("written %d + dropped %d != 200", st.Written, st.Dropped)
	}
	t.Logf("200 requests in %v with the writer stuck; %+v", time.Since(start), st)
}

type stuckWriter struct{ release chan struct{} }

func (w *stuckWriter) Write(p []byte) (int, error) {
	<-w.release
	return len(p), nil
}

// TestSmallRequestAllocsWithAccessLog: with the access log on, a small
// request still allocates nothing once warm.
func TestSmallRequestAllocsWithAccessLog(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts need a build without -race")
	}
	h := NewHandler("public", Routes{Default: &Upstream{Pool: inMemoryPool(t)}}, nil)
	l, err := accesslog.New(accesslog.Options{Writer: discardWriter{}, Buffer: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(context.Background())
	h.SetAccessLog(l)
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	req.SetRequestURI("/api/items?id=42")
	req.Header.SetHost("www.example.com")
	req.Header.Set("User-Agent", "bench")
	var ctx fasthttp.RequestCtx
	ctx.Init(req, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 4000}, nil)
	do := func() {
		ctx.Response.Reset()
		h.ServeHTTP(&ctx)
		if ctx.Response.StatusCode() != 200 {
			t.Fatalf("status %d", ctx.Response.StatusCode())
		}
	}
	for range 200 {
		do()
	}
	if n := testing.AllocsPerRun(2000, do); n != 0 {
		t.Errorf("with the access log: %.2f allocs/op, want 0", n)
	}
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// TestAccessLogRefused: a request the listener refuses before routing (a
// smuggling attempt: Transfer-Encoding gzip alone, ambiguous framing) is
// logged too, with the LB's answer and end refused.
func TestAccessLogRefused(t *testing.T) {
	addr := startBackend(t, func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("never") })
	h := NewHandler("public", Routes{Default: &Upstream{Pool: newTestPool(t, "web", addr)}}, nil)
	sink := withAccessLog(t, h)
	l := startTCPLB(t, h, ServerOptions{})
	resp := l.conn(t).raw("POST /smuggle HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: gzip\r\n\r\n", false)
	if resp.StatusCode() != 400 {
		t.Fatalf("status %d, want 400", resp.StatusCode())
	}
	line := sink.wait(t, 1)[0]
	// fasthttp gave up on reading it: the request line is unknown, not
	// fasthttp's default "GET /".
	checkLine(t, line, map[string]any{
		"kind": "http", "listener": "public", "method": "", "target": "",
		"status": 400.0, "pool": "", "backend": "", "end": "refused",
	})
}
