// Package stream serves and checks the answers a streaming proxy must pass
// through without holding them: large bodies produced on the fly, bodies
// cut in the middle, paced bodies, Server-Sent Events and large uploads.
// The demo backend (`lb backend`) and the benchmark backend (`go run
// ./bench backend`) both serve its endpoints:
//
//	GET  /bytes?n=N        N bytes of seed 0's Content, with Content-Length
//	       &seed=S         another seed (uint64)
//	       &chunked=1      chunked, without Content-Length
//	       &abort_after=K  send K bytes of the body (0..N), then close the
//	                       connection: short of Content-Length, or with no
//	                       terminating chunk
//	       &rate=R         pace the body at R bytes per second
//	GET  /sse?every=D&n=N  Server-Sent Events (text/event-stream, chunked):
//	                       one event every D (a Go duration, default 100ms),
//	                       N events (0, the default: until the client goes
//	                       away or the server closes), each flushed to the
//	                       socket when written
//	POST /upload           reads the body as it arrives and answers
//	                       {"bytes":N,"sha256":"<hex>"}
//
// Sizes (n, abort_after, rate) take ParseSize's units ("64MiB"). A client
// checks a download with a Verifier or Digest over NewContent(seed), reads
// events with an EventReader, and sends an upload from a Reader: nothing
// needs the whole body in memory on either side.
package stream

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Endpoint paths.
const (
	PathBytes  = "/bytes"
	PathSSE    = "/sse"
	PathUpload = "/upload"
)

// MaxBytes bounds n and rate of /bytes, in bytes (1 TiB).
const MaxBytes = 1 << 40

// DefaultSSEInterval is the time between two events when /sse has no
// every parameter.
const DefaultSSEInterval = 100 * time.Millisecond

// MinSSEInterval is the shortest every /sse accepts.
const MinSSEInterval = time.Millisecond

// MaxUploadBodySize is the fasthttp.Server.MaxRequestBodySize that
// ConfigureServer sets, in bytes (1 TiB): with StreamRequestBody a
// handler reads the body as it arrives, and this only bounds what one
// request may send.
const MaxUploadBodySize = 1 << 40

// writeChunk is the largest piece the raw writer (abort_after, rate) sends
// at once, in bytes.
const writeChunk = 256 << 10

// paceStep is how much time's worth of body a paced answer sends at once.
const paceStep = 20 * time.Millisecond

// maxCachedContents bounds the Contents a Handler keeps (BlockSize bytes
// each) so that requests for the same seed share one.
const maxCachedContents = 8

// ConfigureServer makes s able to serve PathUpload: request bodies are
// streamed to the handler (StreamRequestBody) instead of read whole, and
// MaxRequestBodySize is raised to MaxUploadBodySize. Other handlers of s
// still get small bodies through ctx.PostBody(), which reads the stream.
func ConfigureServer(s *fasthttp.Server) {
	s.StreamRequestBody = true
	s.MaxRequestBodySize = MaxUploadBodySize
}

// Handler serves the endpoints. Create it with NewHandler; its methods are
// safe for concurrent use.
type Handler struct {
	done      chan struct{}
	closeOnce sync.Once

	mu       sync.Mutex
	contents map[uint64]*Content
	conns    map[net.Conn]bool // hijacked connections; nil once closed
	raw      sync.WaitGroup    // hijacked writers
	events   sync.WaitGroup    // SSE writers
	// sseActive counts the SSE writers running (for tests).
	sseActive atomic.Int64
}

// NewHandler returns a handler ready to serve.
func NewHandler() *Handler {
	return &Handler{done: make(chan struct{}), contents: map[uint64]*Content{}, conns: map[net.Conn]bool{}}
}

// Serve answers ctx when its path is PathBytes, PathSSE or PathUpload and
// reports whether it did; any other path is left to the caller. Headers
// already set on ctx.Response (X-Backend) are kept.
func (h *Handler) Serve(ctx *fasthttp.RequestCtx) bool {
	switch string(ctx.Path()) {
	case PathBytes:
		h.serveBytes(ctx)
	case PathSSE:
		h.serveSSE(ctx)
	case PathUpload:
		h.serveUpload(ctx)
	default:
		return false
	}
	return true
}

// Close ends every stream: an SSE stream after its current event, a paced
// or cut (abort_after) body at once by closing its connection; plain
// downloads run to their end. Later requests for an endpoint get 503.
// Close waits for the cut and paced bodies; call Wait once the server has
// stopped to wait for the SSE writers too.
func (h *Handler) Close() {
	h.closeOnce.Do(func() { close(h.done) })
	h.mu.Lock()
	for c := range h.conns {
		c.Close()
	}
	h.conns = nil
	h.mu.Unlock()
	h.raw.Wait()
}

// Wait waits for every SSE writer to return. After Close and the server's
// shutdown (which closes their connections) it returns at once.
func (h *Handler) Wait() { h.events.Wait() }

// closed reports whether Close was called.
func (h *Handler) closed() bool {
	select {
	case <-h.done:
		return true
	default:
		return false
	}
}

// sleepUntil waits until t; false if Close was called first.
func (h *Handler) sleepUntil(t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return !h.closed()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-h.done:
		return false
	}
}

// content returns seed's Content, drawing it on first use.
func (h *Handler) content(seed uint64) *Content {
	h.mu.Lock()
	c := h.contents[seed]
	h.mu.Unlock()
	if c != nil {
		return c
	}
	c = NewContent(seed)
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.contents) >= maxCachedContents {
		for k := range h.contents {
			delete(h.contents, k)
			break
		}
	}
	h.contents[seed] = c
	return c
}

// fail answers code with a JSON error.
func fail(ctx *fasthttp.RequestCtx, code int, format string, a ...any) {
	msg, _ := json.Marshal(map[string]string{"error": fmt.Sprintf(format, a...)})
	ctx.SetStatusCode(code)
	ctx.SetContentType("application/json")
	ctx.SetBody(append(msg, '\n'))
}

// Bytes is a /bytes request. The zero value asks for an empty body of
// seed 0 with Content-Length.
type Bytes struct {
	N       int64  // body length in bytes
	Seed    uint64 // the Content's seed
	Chunked bool   // chunked framing, no Content-Length
	// Abort, with AbortAfter (0..N), cuts the body after AbortAfter
	// bytes: the connection is closed there.
	Abort      bool
	AbortAfter int64
	// Rate paces the body, in bytes per second; 0 sends at full speed.
	Rate int64
}

// Path is the request target for b: PathBytes and its query.
func (b Bytes) Path() string {
	q := url.Values{"n": {strconv.FormatInt(b.N, 10)}}
	if b.Seed != 0 {
		q.Set("seed", strconv.FormatUint(b.Seed, 10))
	}
	if b.Chunked {
		q.Set("chunked", "1")
	}
	if b.Abort {
		q.Set("abort_after", strconv.FormatInt(b.AbortAfter, 10))
	}
	if b.Rate > 0 {
		q.Set("rate", strconv.FormatInt(b.Rate, 10))
	}
	return PathBytes + "?" + q.Encode()
}

// parseBytes reads a /bytes query.
func parseBytes(args *fasthttp.Args) (Bytes, error) {
	var b Bytes
	size := func(name string, required bool) (int64, bool, error) {
		v := args.Peek(name)
		if v == nil {
			if required {
				return 0, false, fmt.Errorf("%s is required", name)
			}
			return 0, false, nil
		}
		n, err := ParseSize(string(v))
		if err != nil {
			return 0, false, fmt.Errorf("%s: %v", name, err)
		}
		if n > MaxBytes {
			return 0, false, fmt.Errorf("%s %d is over %d", name, n, int64(MaxBytes))
		}
		return n, true, nil
	}
	var err error
	if b.N, _, err = size("n", true); err != nil {
		return b, err
	}
	if v := args.Peek("seed"); v != nil {
		if b.Seed, err = strconv.ParseUint(string(v), 10, 64); err != nil {
			return b, fmt.Errorf("seed %q: want an unsigned integer", v)
		}
	}
	switch c := string(args.Peek("chunked")); c {
	case "", "0", "false":
	case "1", "true":
		b.Chunked = true
	default:
		return b, fmt.Errorf("chunked %q: want 1 or 0", c)
	}
	if b.AbortAfter, b.Abort, err = size("abort_after", false); err != nil {
		return b, err
	}
	if b.Abort && b.AbortAfter > b.N {
		return b, fmt.Errorf("abort_after %d is past the end of the body (n %d)", b.AbortAfter, b.N)
	}
	var paced bool
	if b.Rate, paced, err = size("rate", false); err != nil {
		return b, err
	}
	if paced && b.Rate == 0 {
		return b, fmt.Errorf("rate must be at least 1 byte per second")
	}
	return b, nil
}

// serveBytes answers PathBytes. A plain body goes through fasthttp's
// body stream (kept-alive connection); a paced or cut one is written by
// rawBody on the hijacked connection, which is closed at its end.
func (h *Handler) serveBytes(ctx *fasthttp.RequestCtx) {
	if !ctx.IsGet() && !ctx.IsHead() {
		fail(ctx, fasthttp.StatusMethodNotAllowed, "GET or HEAD only")
		return
	}
	b, err := parseBytes(ctx.QueryArgs())
	if err != nil {
		fail(ctx, fasthttp.StatusBadRequest, "%s: %v", PathBytes, err)
		return
	}
	if h.closed() {
		fail(ctx, fasthttp.StatusServiceUnavailable, "shutting down")
		return
	}
	c := h.content(b.Seed)
	ctx.SetContentType("application/octet-stream")
	if !b.Abort && b.Rate == 0 {
		n := int(b.N)
		if b.Chunked {
			n = -1
		}
		ctx.SetBodyStream(NewReader(c, b.N), n)
		return
	}
	if b.Chunked {
		ctx.Response.Header.SetContentLength(-1)
	} else {
		ctx.Response.Header.SetContentLength(int(b.N))
	}
	ctx.Response.SetConnectionClose()
	head := append([]byte(nil), ctx.Response.Header.Header()...)
	bodyless := ctx.IsHead()
	h.raw.Add(1)
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(conn net.Conn) {
		defer h.raw.Done()
		raw := conn
		if u, ok := conn.(interface{ UnsafeConn() net.Conn }); ok {
			raw = u.UnsafeConn()
		}
		if !h.track(raw) {
			return
		}
		defer h.untrack(raw)
		if _, err := conn.Write(head); err != nil || bodyless {
			return
		}
		h.rawBody(conn, c, b)
	})
}

// track registers a hijacked connection, unless the handler is closed.
func (h *Handler) track(c net.Conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conns == nil {
		return false
	}
	h.conns[c] = true
	return true
}

// untrack forgets a hijacked connection.
func (h *Handler) untrack(c net.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.conns, c)
}

// rawBody writes b's body on w, framed as b says, paced at b.Rate, cut
// after b.AbortAfter bytes when b.Abort; fasthttp closes the connection
// when it returns.
func (h *Handler) rawBody(w io.Writer, c *Content, b Bytes) {
	stop := b.N
	if b.Abort {
		stop = b.AbortAfter
	}
	step := int64(writeChunk)
	if b.Rate > 0 {
		step = min(max(b.Rate*int64(paceStep)/int64(time.Second), 1), writeChunk)
	}
	buf := make([]byte, 0, min(step, max(stop, 1))+32)
	start := time.Now()
	for off := int64(0); off < stop; {
		if b.Rate > 0 && !h.sleepUntil(start.Add(time.Duration(float64(off)/float64(b.Rate)*float64(time.Second)))) {
			return
		}
		k := min(step, stop-off)
		buf = buf[:0]
		if b.Chunked {
			buf = strconv.AppendInt(buf, k, 16)
			buf = append(buf, "\r\n"...)
		}
		at := len(buf)
		buf = buf[:at+int(k)]
		c.Fill(buf[at:], off)
		if b.Chunked {
			buf = append(buf, "\r\n"...)
		}
		if _, err := w.Write(buf); err != nil {
			return
		}
		off += k
	}
	if b.Chunked && !b.Abort {
		w.Write([]byte("0\r\n\r\n"))
	}
}

// SSE is a /sse request.
type SSE struct {
	Every time.Duration // between two events; 0: DefaultSSEInterval
	N     int64         // events to send; 0: until the client goes away
}

// Path is the request target for s: PathSSE and its query.
func (s SSE) Path() string {
	q := url.Values{}
	if s.Every > 0 {
		q.Set("every", s.Every.String())
	}
	if s.N > 0 {
		q.Set("n", strconv.FormatInt(s.N, 10))
	}
	if len(q) == 0 {
		return PathSSE
	}
	return PathSSE + "?" + q.Encode()
}

// serveSSE answers PathSSE: event i (1, 2, ...) is written at start + (i-1)
// × every and flushed at once:
//
//	id: i
//	data: {"seq":i,"sent_unix_ns":<time.Now().UnixNano() when written>}
//
// The writer stops when a flush fails (the client went away) or on Close.
func (h *Handler) serveSSE(ctx *fasthttp.RequestCtx) {
	if !ctx.IsGet() {
		fail(ctx, fasthttp.StatusMethodNotAllowed, "GET only")
		return
	}
	s := SSE{Every: DefaultSSEInterval}
	args := ctx.QueryArgs()
	if v := args.Peek("every"); v != nil {
		d, err := time.ParseDuration(string(v))
		if err != nil || d < MinSSEInterval {
			fail(ctx, fasthttp.StatusBadRequest, "%s: every %q: want a duration of at least %s", PathSSE, v, MinSSEInterval)
			return
		}
		s.Every = d
	}
	if v := args.Peek("n"); v != nil {
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil || n < 0 {
			fail(ctx, fasthttp.StatusBadRequest, "%s: n %q: want a count of events, 0 for no end", PathSSE, v)
			return
		}
		s.N = n
	}
	if h.closed() {
		fail(ctx, fasthttp.StatusServiceUnavailable, "shutting down")
		return
	}
	ctx.SetContentType("text/event-stream")
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.Response.ImmediateHeaderFlush = true
	h.events.Add(1)
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer h.events.Done()
		h.sseActive.Add(1)
		defer h.sseActive.Add(-1)
		start := time.Now()
		var line []byte
		for i := int64(1); s.N == 0 || i <= s.N; i++ {
			if !h.sleepUntil(start.Add(time.Duration(i-1) * s.Every)) {
				return
			}
			line = AppendEvent(line[:0], i, time.Now().UnixNano())
			if _, err := w.Write(line); err != nil {
				return
			}
			if w.Flush() != nil {
				return
			}
		}
	})
}

// UploadResult is the JSON answer of PathUpload.
type UploadResult struct {
	Bytes  int64  `json:"bytes"`  // body bytes read
	SHA256 string `json:"sha256"` // lower-case hex SHA-256 of the body
	// Error, on a 400, says why the body ended early.
	Error string `json:"error,omitempty"`
}

// serveUpload answers PathUpload: the body is hashed as it is read, in
// pieces, never held whole. A body that ends before its framing says gets
// 400 with the bytes read so far.
func (h *Handler) serveUpload(ctx *fasthttp.RequestCtx) {
	if !ctx.IsPost() && !ctx.IsPut() {
		fail(ctx, fasthttp.StatusMethodNotAllowed, "POST or PUT only")
		return
	}
	sum := sha256.New()
	var n int64
	var err error
	if r := ctx.RequestBodyStream(); r != nil {
		n, err = io.CopyBuffer(sum, r, make([]byte, 64<<10))
	} else {
		body := ctx.PostBody()
		sum.Write(body)
		n = int64(len(body))
	}
	if cl := ctx.Request.Header.ContentLength(); err == nil && cl >= 0 && n != int64(cl) {
		err = fmt.Errorf("body ended after %d of its %d bytes (Content-Length)", n, cl)
	}
	res := UploadResult{Bytes: n, SHA256: hex.EncodeToString(sum.Sum(nil))}
	if err != nil {
		ctx.SetStatusCode(fasthttp.StatusBadRequest)
		res.Error = err.Error()
	}
	js, _ := json.Marshal(res)
	ctx.SetContentType("application/json")
	ctx.SetBody(append(js, '\n'))
}
