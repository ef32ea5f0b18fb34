package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"go.uber.org/zap/zaptest/observer"
)

// sseBackend answers every request with a Server-Sent Events stream of n
// events (0: until the client goes away), one every `every`, each
// "data: <unix ns when written>" and flushed at once. The first comes at
// once.
func sseBackend(t testing.TB, n int, every time.Duration) string {
	return startBackend(t, func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("text/event-stream")
		ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
			for i := 0; n == 0 || i < n; i++ {
				if i > 0 {
					time.Sleep(every)
				}
				fmt.Fprintf(w, "data: %d\n\n", time.Now().UnixNano())
				if w.Flush() != nil {
					return
				}
			}
		})
	})
}

// sseDelays reads events from body until it ends and returns, for each,
// how long after its "data: <unix ns>" time it arrived.
func sseDelays(t testing.TB, body io.Reader) []time.Duration {
	t.Helper()
	var out []time.Duration
	sc := bufio.NewScanner(body)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		sent, err := strconv.ParseInt(line, 10, 64)
		if err != nil {
			t.Fatalf("event %q: %v", line, err)
		}
		out = append(out, time.Since(time.Unix(0, sent)))
	}
	return out
}

// httpClient is a net/http client (an implementation independent of the
// LB's) that keeps no connection once a test ends.
func httpClient(t testing.TB) *http.Client {
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// step is one write of a scripted answer: bytes, then a pause
// (untilClosed: wait until the LB closes the connection, a stalled
// backend).
type step struct {
	data  string
	pause time.Duration
}

// untilClosed is the pause of a step after which the backend stalls.
const untilClosed = -1

// scriptBackend answers each request on a connection with the steps, in
// order, then closes the connection when closeAfter is set (a backend
// dying mid-answer), else waits for the next request. conns counts the
// connections accepted.
func scriptBackend(t testing.TB, conns *atomic.Int64, closeAfter bool, steps ...step) string {
	return rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if conns != nil {
			conns.Add(1)
		}
		for {
			if _, ok := readRequest(br); !ok {
				return
			}
			for _, s := range steps {
				if _, err := c.Write([]byte(s.data)); err != nil {
					return
				}
				if s.pause == untilClosed {
					_, _ = io.Copy(io.Discard, c)
					return
				}
				time.Sleep(s.pause)
			}
			if closeAfter {
				return
			}
		}
	})
}

// chunk frames p as one chunk.
func chunk(p string) string { return fmt.Sprintf("%x\r\n%s\r\n", len(p), p) }

// rawConn is a client connection on which a test writes a request and
// reads the answer byte by byte as it comes.
type rawConn struct {
	c  net.Conn
	br *bufio.Reader
}

func dialLB(t testing.TB, l *lb) *rawConn {
	t.Helper()
	c, err := l.dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{c: c, br: bufio.NewReader(c)}
}

// head sends req and reads the answer's header.
func (r *rawConn) head(t testing.TB, req string) *fasthttp.ResponseHeader {
	t.Helper()
	_ = r.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := r.c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	var h fasthttp.ResponseHeader
	h.DisableNormalizing()
	h.SetNoDefaultContentType(true) // show only what came
	if err := h.Read(r.br); err != nil {
		t.Fatalf("read header: %v", err)
	}
	return &h
}

// rest reads until the connection ends and returns what came and how it
// ended (io.EOF: closed).
func (r *rawConn) rest() (string, error) {
	b, err := io.ReadAll(r.br)
	if err == nil {
		err = io.EOF
	}
	return string(b), err
}

// endlessStream is an endless event stream open through an LB whose
// handler logs into logs.
type endlessStream struct {
	up   *Upstream
	h    *Handler
	logs *observer.ObservedLogs
	resp *http.Response
}

// openEndlessStream opens an endless event stream (an event every 20ms)
// through a TCP LB; its body is closed when the test ends.
func openEndlessStream(t testing.TB) endlessStream {
	t.Helper()
	up := &Upstream{Pool: newTestPool(t, "web", sseBackend(t, 0, 20*time.Millisecond))}
	log, logs := observedLogger()
	h := NewHandler("public", Routes{Default: up}, log)
	l := startTCPLB(t, h, ServerOptions{})
	resp, err := httpClient(t).Get("http://" + l.addr(t) + "/events")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return endlessStream{up: up, h: h, logs: logs, resp: resp}
}
