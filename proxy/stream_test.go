package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
	"go.uber.org/zap"
)

// maxEventDelay is how late an event may reach the client through the
// LB, from the moment the backend wrote it.
const maxEventDelay = 20 * time.Millisecond

// TestStreamSSEEventsArriveAtOnce: with default settings, each event of a
// Server-Sent Events stream reaches the client within maxEventDelay of the
// backend writing it, not when the stream ends.
func TestStreamSSEEventsArriveAtOnce(t *testing.T) {
	backend := sseBackend(t, 10, 100*time.Millisecond)
	up := &Upstream{Pool: newTestPool(t, "web", backend)}
	l := startTCPLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})

	resp, err := httpClient(t).Get("http://" + l.addr(t) + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	if resp.ContentLength != -1 || len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
		t.Errorf("framing: length %d, transfer coding %v; want chunked", resp.ContentLength, resp.TransferEncoding)
	}
	delays := sseDelays(t, resp.Body)
	if len(delays) != 10 {
		t.Fatalf("got %d events, want 10", len(delays))
	}
	for i, d := range delays {
		if d > maxEventDelay {
			t.Errorf("event %d arrived %s after it was sent, want at most %s (all: %v)", i, d, maxEventDelay, delays)
		}
	}
	checkReleased(t, up.Pool)
}

// TestStreamHeartbeatOutlivesTimeouts: a stream that sends a heartbeat
// more often than every timeout lives on far past all of them: the
// header timeout, the body idle timeout and the listener's read, write
// and idle timeouts are not "whole answer" limits. The stream lasts 2.4s,
// more than twice every timeout (1s), while a heartbeat every 100ms leaves
// each timeout a tenfold margin: a 300ms timeout failed once on a loaded
// 2-core machine, where one scheduling stall ate its 3x margin.
func TestStreamHeartbeatOutlivesTimeouts(t *testing.T) {
	const beats = 25
	backend := sseBackend(t, beats, 100*time.Millisecond) // 2.4s
	tiny := time.Second
	up := &Upstream{Pool: newTestPool(t, "web", backend), HeaderTimeout: tiny, BodyIdleTimeout: tiny}
	l := startTCPLB(t, NewHandler("public", Routes{Default: up}, nil),
		ServerOptions{ReadTimeout: tiny, WriteTimeout: tiny, IdleTimeout: tiny})

	resp, err := httpClient(t).Get("http://" + l.addr(t) + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if n := len(sseDelays(t, resp.Body)); n != beats {
		t.Fatalf("got %d events, want %d: the stream was cut", n, beats)
	}
}

// TestStreamHeartbeatThreeMinutes: with default settings, a 3-minute
// stream with a heartbeat every 10s is not cut (every default timeout is
// 60s at most). It runs in parallel with the package's other tests.
func TestStreamHeartbeatThreeMinutes(t *testing.T) {
	if testing.Short() {
		t.Skip("3 minutes; TestStreamHeartbeatOutlivesTimeouts is the short variant")
	}
	t.Parallel()
	const beats = 19 // 0s .. 180s
	backend := sseBackend(t, beats, 10*time.Second)
	up := &Upstream{Pool: newTestPool(t, "web", backend)}
	l := startTCPLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})

	resp, err := httpClient(t).Get("http://" + l.addr(t) + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	delays := sseDelays(t, resp.Body)
	if len(delays) != beats {
		t.Fatalf("got %d events, want %d: the stream was cut", len(delays), beats)
	}
}

// TestStreamLengthBodyFlushedAsItComes: a body with a Content-Length that
// trickles in reaches the client piece by piece (a short read is passed
// on at once), and keeps its length.
func TestStreamLengthBodyFlushedAsItComes(t *testing.T) {
	piece := strings.Repeat("x", 10<<10)
	backend := scriptBackend(t, nil, false,
		step{"HTTP/1.1 200 OK\r\nContent-Length: 30720\r\n\r\n" + piece, 300 * time.Millisecond},
		step{piece, 300 * time.Millisecond},
		step{piece, 0})
	up := &Upstream{Pool: newTestPool(t, "web", backend)}
	l := startTCPLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})

	c := dialLB(t, l)
	start := time.Now()
	h := c.head(t, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if h.ContentLength() != 30720 {
		t.Fatalf("Content-Length %d, want 30720", h.ContentLength())
	}
	buf := make([]byte, len(piece))
	if _, err := io.ReadFull(c.br, buf); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("first 10 KiB arrived after %s: held until more came", d)
	}
	if _, err := io.ReadFull(c.br, buf); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("second 10 KiB arrived after %s", d)
	}
	checkReleasedEventually(t, up.Pool)
}

// checkReleasedEventually waits up to 5s for every in-flight count of p
// to reach 0 (a stream finishes just after its last byte is written).
func checkReleasedEventually(t testing.TB, p *pool.Pool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for _, b := range p.Backends() {
		for b.InFlight() != 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	checkReleased(t, p)
}

// TestStreamLargeBodiesIntact: large answers with a length and chunked
// ones arrive byte for byte, and the backend connection is reused after
// a stream relayed whole.
func TestStreamLargeBodiesIntact(t *testing.T) {
	body := make([]byte, 16<<20)
	for i := range body {
		body[i] = byte(i*7 + i>>13)
	}
	want := sha256.Sum256(body)
	var conns atomic.Int64
	backend := startBackend(t, func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == "/chunked" {
			ctx.SetBodyStream(bytes.NewReader(body), -1)
			return
		}
		ctx.SetBody(body)
	})
	counted := countingProxy(t, backend, &conns)
	up := &Upstream{Pool: newTestPool(t, "web", counted)}
	l := startTCPLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
	client := httpClient(t)
	for _, path := range []string{"/length", "/chunked", "/length", "/chunked"} {
		resp, err := client.Get("http://" + l.addr(t) + path)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		n, err := io.Copy(h, resp.Body)
		resp.Body.Close()
		if err != nil || n != int64(len(body)) || !bytes.Equal(h.Sum(nil), want[:]) {
			t.Fatalf("%s: %d bytes, err %v, digest match %v", path, n, err, bytes.Equal(h.Sum(nil), want[:]))
		}
		wantLen := int64(len(body))
		if path == "/chunked" {
			wantLen = -1
		}
		if resp.ContentLength != wantLen {
			t.Errorf("%s: ContentLength %d, want %d", path, resp.ContentLength, wantLen)
		}
		checkReleasedEventually(t, up.Pool)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("backend got %d connections for 4 sequential streams, want 1 (kept alive)", n)
	}
}

// countingProxy is a TCP pass-through to addr that counts the
// connections made through it.
func countingProxy(t testing.TB, addr string, n *atomic.Int64) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveConns(t, ln, func(c net.Conn) {
		n.Add(1)
		up, err := net.Dial("tcp", addr)
		if err != nil {
			return
		}
		defer up.Close()
		done := make(chan struct{})
		go func() { io.Copy(up, c); up.(*net.TCPConn).CloseWrite(); close(done) }()
		io.Copy(c, up)
		c.Close()
		<-done
	})
	return ln.Addr().String()
}

// TestStreamBackendDiesMidBody: a backend that closes its connection in
// the middle of a streamed body must never look like a complete answer
// to the client: with a length, the client gets fewer bytes than it
// announced; chunked, no last chunk. The backend is charged with a
// failure (passive ejection counts it), and the stream is logged with
// its pool, backend and bytes sent.
func TestStreamBackendDiesMidBody(t *testing.T) {
	part := strings.Repeat("y", 20<<10)
	for _, tc := range []struct{ name, head, body string }{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", part},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", chunk(part)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			backend := scriptBackend(t, nil, true, step{tc.head + tc.body, 50 * time.Millisecond})
			up := &Upstream{Pool: newTestPool(t, "web", backend)}
			log, logs := observedLogger()
			h := NewHandler("public", Routes{Default: up}, log)
			l := startTCPLB(t, h, ServerOptions{})

			resp, err := httpClient(t).Get("http://" + l.addr(t) + "/")
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("client read %d bytes, error %v; want io.ErrUnexpectedEOF (an incomplete answer)", len(got), err)
			}
			if string(got) != part {
				t.Errorf("client got %d bytes before the cut, want %d", len(got), len(part))
			}
			checkReleasedEventually(t, up.Pool)
			if n := backendErrors(t, up.Pool, backend); n != 1 {
				t.Errorf("backend errors = %d, want 1", n)
			}
			waitFor(t, "the stream cut log line", func() bool { return logs.FilterMessage("stream cut: backend failed mid-body").Len() == 1 })
			e := logs.FilterMessage("stream cut: backend failed mid-body").All()[0]
			m := e.ContextMap()
			if m["pool"] != "web" || m["backend"] != backend || m["bytes_sent"] != int64(len(part)) || m["cause"] != "backend_failed" {
				t.Errorf("log fields %v", m)
			}
			if n := h.StreamEnds().Snapshot()["backend_failed"]; n != 1 {
				t.Errorf("backend_failed counted %d, want 1", n)
			}
		})
	}
}

// TestStreamClientGoneClosesBackend: a client that goes away mid-stream
// makes the LB close the backend connection within about a second,
// whether the backend is sending fast (the next write fails) or is
// silent (the LB probes the client while it waits); it is never held
// against the backend.
func TestStreamClientGoneClosesBackend(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pause time.Duration
	}{
		{"fast backend", 0},
		{"silent backend", time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			closed := make(chan time.Time, 1)
			backend := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
				if _, ok := readRequest(br); !ok {
					return
				}
				c.Write([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"))
				piece := chunk(strings.Repeat("z", 16<<10))
				if tc.pause > 0 {
					// One small piece the client reads whole, so the
					// LB has nothing left to write when it leaves.
					piece = chunk(strings.Repeat("z", 100))
				}
				for {
					if _, err := c.Write([]byte(piece)); err != nil {
						closed <- time.Now()
						return
					}
					if tc.pause > 0 {
						// Silent: wait for the LB to close (a read
						// returns once it does).
						c.Read(make([]byte, 1))
						closed <- time.Now()
						return
					}
				}
			})
			up := &Upstream{Pool: newTestPool(t, "web", backend)}
			h := NewHandler("public", Routes{Default: up}, nil)
			l := startTCPLB(t, h, ServerOptions{})

			c := dialLB(t, l)
			c.head(t, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			if _, err := io.ReadFull(c.br, make([]byte, 100)); err != nil {
				t.Fatal(err)
			}
			if tc.pause > 0 {
				// The backend is silent from now on: leave once the LB
				// waits on it.
				time.Sleep(100 * time.Millisecond)
			}
			gone := time.Now()
			c.c.Close()
			select {
			case at := <-closed:
				if d := at.Sub(gone); d > 1500*time.Millisecond {
					t.Errorf("backend connection closed %s after the client left, want about 1s at most", d)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("backend connection still open 10s after the client left")
			}
			checkReleasedEventually(t, up.Pool)
			if n := backendErrors(t, up.Pool, backend); n != 0 {
				t.Errorf("backend errors = %d, want 0 (a client leaving is not the backend's fault)", n)
			}
			if n := h.StreamEnds().Snapshot()["client_gone"]; n != 1 {
				t.Errorf("client_gone counted %d, want 1", n)
			}
		})
	}
}

// TestStreamBodyIdleTimeout: a backend that stops sending mid-body is cut
// after the body idle timeout and charged with a timeout; the client sees
// an incomplete answer.
func TestStreamBodyIdleTimeout(t *testing.T) {
	backend := scriptBackend(t, nil, false,
		step{"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + strings.Repeat("w", 20<<10), untilClosed})
	up := &Upstream{Pool: newTestPool(t, "web", backend), BodyIdleTimeout: 200 * time.Millisecond}
	l := startTCPLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})

	c := dialLB(t, l)
	start := time.Now()
	c.head(t, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	got, err := c.rest()
	if len(got) != 20<<10 || err != io.EOF {
		t.Errorf("client got %d bytes, %v; want the 20480 sent, then the connection closed", len(got), err)
	}
	if d := time.Since(start); d < 200*time.Millisecond || d > 3*time.Second {
		t.Errorf("cut after %s, want about the 200ms idle timeout", d)
	}
	checkReleasedEventually(t, up.Pool)
	if n := backendErrors(t, up.Pool, backend); n != 1 {
		t.Errorf("backend errors = %d, want 1", n)
	}
}

// TestStreamResponseTimeoutCuts: a written ResponseTimeout bounds the
// whole answer, a stream included.
func TestStreamResponseTimeoutCuts(t *testing.T) {
	backend := sseBackend(t, 0, 50*time.Millisecond)
	up := &Upstream{Pool: newTestPool(t, "web", backend), ResponseTimeout: 400 * time.Millisecond}
	l := startTCPLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})

	start := time.Now()
	resp, err := httpClient(t).Get("http://" + l.addr(t) + "/events")
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("stream ended with %v, want an incomplete answer", err)
	}
	if d := time.Since(start); d < 400*time.Millisecond || d > 3*time.Second {
		t.Errorf("cut after %s, want about 400ms", d)
	}
	checkReleasedEventually(t, up.Pool)
}

// TestStreamCountedWhileOpen: an open stream holds its backend's
// in-flight slot and shows in Streams (the /status streams count); a
// deregistration cut (CloseAll) ends it, logged as such, and the client
// sees an incomplete answer.
func TestStreamCountedWhileOpen(t *testing.T) {
	o := openEndlessStream(t)
	up, h, logs, resp := o.up, o.h, o.logs, o.resp
	backend := up.Pool.Backends()[0].Address()
	b := up.Pool.Backends()[0]
	if b.Streams() != 1 || b.InFlight() != 1 || h.Streams() != 1 {
		t.Fatalf("streams %d, in flight %d, listener streams %d; want 1, 1, 1", b.Streams(), b.InFlight(), h.Streams())
	}
	if st := up.Pool.Status().Backends[0]; st.Streams != 1 || st.InFlight != 1 {
		t.Errorf("status: streams %d, in_flight %d", st.Streams, st.InFlight)
	}
	b.Attached().(*BackendClient).CloseAll()
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("client read ended with %v, want an incomplete answer", err)
	}
	checkReleasedEventually(t, up.Pool)
	if b.Streams() != 0 || h.Streams() != 0 {
		t.Errorf("streams %d, listener streams %d after the cut", b.Streams(), h.Streams())
	}
	waitFor(t, "the deregistration log line", func() bool {
		return logs.FilterMessage("stream closed: deregistration delay expired").Len() == 1
	})
	if n := backendErrors(t, up.Pool, backend); n != 0 {
		t.Errorf("backend errors = %d, want 0", n)
	}
}

// TestStreamShutdownCut: the LB's shutdown lets open streams run until
// the grace period ends, then cuts them.
func TestStreamShutdownCut(t *testing.T) {
	o := openEndlessStream(t)
	up, h, logs, resp := o.up, o.h, o.logs, o.resp
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if n := h.ShutdownLong(ctx); n != 1 {
		t.Errorf("ShutdownLong closed %d, want 1", n)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("cut after %s, before the grace period ended", d)
	}
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("client read ended with %v, want an incomplete answer", err)
	}
	checkReleasedEventually(t, up.Pool)
	if logs.FilterMessage("stream closed: shutdown grace period over").Len() != 1 {
		t.Errorf("no shutdown log line: %v", logs.All())
	}
}

// TestStreamBackpressure: a client that does not read holds the backend
// back (TCP flow control) instead of making the LB buffer the answer.
func TestStreamBackpressure(t *testing.T) {
	var written atomic.Int64
	backend := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, ok := readRequest(br); !ok {
			return
		}
		c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n"))
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Write(buf)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	up := &Upstream{Pool: newTestPool(t, "web", backend)}
	l := startTCPLB(t, NewHandler("public", Routes{Default: up}, zap.NewNop()), ServerOptions{})

	c := dialLB(t, l)
	c.head(t, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	// Let the backend fill whatever it can: the kernel's socket buffers
	// on both hops plus the LB's own buffers.
	var last int64
	waitFor(t, "the backend to block", func() bool {
		time.Sleep(200 * time.Millisecond)
		n := written.Load()
		stable := n == last
		last = n
		return stable
	})
	if n := written.Load(); n > 64<<20 {
		t.Errorf("backend wrote %d MiB to a client that read nothing: the LB buffers it", n>>20)
	}
	t.Logf("backend blocked after %d KiB", written.Load()>>10)
}

// TestStreamSmallChunkedAnswerBuffered: a small chunked answer already
// whole in the read buffer takes the buffered path: the client gets it
// with a Content-Length, trailer fields dropped, as before streaming.
func TestStreamSmallChunkedAnswerBuffered(t *testing.T) {
	backend := scriptBackend(t, nil, false, step{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n" +
		chunk("hello ") + chunk("world") + "0\r\nX-T: 1\r\n\r\n", 0})
	up := &Upstream{Pool: newTestPool(t, "web", backend)}
	l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
	resp := l.get(t, "x", "/")
	if string(resp.Body()) != "hello world" || resp.Header.ContentLength() != 11 {
		t.Errorf("body %q, Content-Length %d", resp.Body(), resp.Header.ContentLength())
	}
	if v := resp.Header.Peek("X-T"); len(v) != 0 {
		t.Errorf("trailer field relayed as %q", v)
	}
	checkReleased(t, up.Pool)
}

// TestStreamedChunkedTrailerDropped: a streamed chunked answer's trailer
// fields are dropped; its body arrives whole.
func TestStreamedChunkedTrailerDropped(t *testing.T) {
	part := strings.Repeat("t", 12<<10)
	backend := scriptBackend(t, nil, false,
		step{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n" + chunk(part), 100 * time.Millisecond},
		step{chunk(part) + "0\r\nX-T: 1\r\n\r\n", 0})
	up := &Upstream{Pool: newTestPool(t, "web", backend)}
	l := startTCPLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
	resp, err := httpClient(t).Get("http://" + l.addr(t) + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(body) != part+part {
		t.Fatalf("body %d bytes, %v", len(body), err)
	}
	if len(resp.Trailer) != 0 {
		t.Errorf("trailer relayed: %v", resp.Trailer)
	}
	checkReleasedEventually(t, up.Pool)
}

// TestStreamed5xxNotRetried: an answer whose body is streamed stands,
// even a 5xx one the retry policy would retry (its header is on its way
// to the client as soon as it is chosen).
func TestStreamed5xxNotRetried(t *testing.T) {
	var a, b atomic.Int64
	big := strings.Repeat("e", 20<<10)
	failing := scriptBackend(t, &a, false, step{"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 20480\r\n\r\n" + big, 0})
	ok := okBackend(t, "ok", &b)
	rp, err := NewRetryPolicy(RetryOptions{Attempts: 1, On: []string{RetryOn5xx}})
	if err != nil {
		t.Fatal(err)
	}
	up := &Upstream{Pool: newTestPool(t, "web", failing, ok), Retry: rp}
	l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
	for i := 0; i < 2; i++ {
		resp := l.get(t, "x", "/")
		if resp.StatusCode() == 503 && string(resp.Body()) != big {
			t.Errorf("503 body of %d bytes", len(resp.Body()))
		}
	}
	if b.Load() != 1 {
		t.Errorf("ok backend got %d requests, want 1 (its own turn only)", b.Load())
	}
	checkReleasedEventually(t, up.Pool)
}

// TestStreamHTTP10Client: an HTTP/1.0 client cannot read chunked framing:
// a streamed answer without a length reaches it unframed, ended by the
// connection's close, and the LB adds no Content-Type the backend did
// not send.
func TestStreamHTTP10Client(t *testing.T) {
	part := strings.Repeat("q", 12<<10)
	backend := scriptBackend(t, nil, false,
		step{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(part), 100 * time.Millisecond},
		step{chunk(part) + "0\r\n\r\n", 0})
	up := &Upstream{Pool: newTestPool(t, "web", backend)}
	l := startTCPLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
	c := dialLB(t, l)
	h := c.head(t, "GET / HTTP/1.0\r\nHost: x\r\n\r\n")
	if !h.ConnectionClose() || h.Peek("Transfer-Encoding") != nil || h.Peek("Content-Length") != nil || h.Peek("Content-Type") != nil {
		t.Errorf("header %q: want Connection: close and no Transfer-Encoding, Content-Length or Content-Type", h.Header())
	}
	got, err := c.rest()
	if got != part+part || err != io.EOF {
		t.Errorf("body %d bytes (%v), want %d then the close", len(got), err, 2*len(part))
	}
	checkReleasedEventually(t, up.Pool)
}

// TestStreamNoDefaultContentType: an answer without Content-Type gets
// none from the LB, streamed or buffered.
func TestStreamNoDefaultContentType(t *testing.T) {
	big := strings.Repeat("n", 20<<10)
	backend := startBackend(t, func(ctx *fasthttp.RequestCtx) {
		ctx.Response.Header.SetNoDefaultContentType(true)
		if string(ctx.Path()) == "/big" {
			ctx.SetBodyString(big)
			return
		}
		ctx.SetBodyString("small")
	})
	up := &Upstream{Pool: newTestPool(t, "web", backend)}
	l := startTCPLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
	for _, path := range []string{"/small", "/big"} {
		c := dialLB(t, l)
		h := c.head(t, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		if ct := h.Peek("Content-Type"); ct != nil {
			t.Errorf("%s: Content-Type %q added", path, ct)
		}
	}
	checkReleasedEventually(t, up.Pool)
}

// TestStreamFramingWithoutBody: answers that carry no body keep their
// framing fields whatever length they announce (HEAD, 204, 304: never
// streamed, nothing waited for), and interim 1xx answers before a
// streamed body are dropped, the body relayed whole.
func TestStreamFramingWithoutBody(t *testing.T) {
	big := strings.Repeat("b", 40<<10)
	backend := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			req, ok := readRequest(br)
			if !ok {
				return
			}
			switch string(req.URI().Path()) {
			case "/head":
				c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n"))
			case "/204":
				c.Write([]byte("HTTP/1.1 204 No Content\r\n\r\n"))
			case "/304":
				c.Write([]byte("HTTP/1.1 304 Not Modified\r\nContent-Length: 1048576\r\nETag: \"x\"\r\n\r\n"))
			case "/interim":
				c.Write([]byte("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" +
					"HTTP/1.1 200 OK\r\nContent-Length: 40960\r\n\r\n" + big))
			}
		}
	})
	up := &Upstream{Pool: newTestPool(t, "web", backend)}
	l := startTCPLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
	c := dialLB(t, l)
	for _, tc := range []struct {
		req    string
		status int
		cl     int
	}{
		{"HEAD /head HTTP/1.1\r\nHost: x\r\n\r\n", 200, 1048576},
		{"GET /204 HTTP/1.1\r\nHost: x\r\n\r\n", 204, -2},
		{"GET /304 HTTP/1.1\r\nHost: x\r\n\r\n", 304, 1048576},
	} {
		h := c.head(t, tc.req)
		if h.StatusCode() != tc.status {
			t.Fatalf("%q: status %d", tc.req, h.StatusCode())
		}
		if tc.cl >= 0 && h.ContentLength() != tc.cl {
			t.Errorf("%q: Content-Length %d, want %d", tc.req, h.ContentLength(), tc.cl)
		}
	}
	// The same connection goes on: nothing was read as a body above.
	h := c.head(t, "GET /interim HTTP/1.1\r\nHost: x\r\n\r\n")
	if h.StatusCode() != 200 || h.ContentLength() != len(big) {
		t.Fatalf("status %d, Content-Length %d", h.StatusCode(), h.ContentLength())
	}
	got := make([]byte, len(big))
	if _, err := io.ReadFull(c.br, got); err != nil || string(got) != big {
		t.Fatalf("body: %v", err)
	}
	checkReleasedEventually(t, up.Pool)
}
