package proxy

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// uploadSeen is what a backend saw of one upload.
type uploadSeen struct {
	contentLength int // -1: chunked
	n             int64
	digest        [sha256.Size]byte
}

// digestBackend reads each request's body as a stream and answers 200
// with its size; it records what it saw.
func digestBackend(t testing.TB, seen chan<- uploadSeen) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			h := sha256.New()
			n, _ := io.Copy(h, ctx.RequestBodyStream())
			var u uploadSeen
			u.contentLength, u.n = ctx.Request.Header.ContentLength(), n
			copy(u.digest[:], h.Sum(nil))
			seen <- u
			fmt.Fprintf(ctx, "%d", n)
		},
		StreamRequestBody:     true,
		MaxRequestBodySize:    1 << 30,
		MaxIdleWorkerDuration: testWorkerIdle,
	}
	serveUntilCleanup(t, s, ln)
	return ln.Addr().String()
}

// patterned returns n bytes of a fixed pattern.
func patterned(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31 + i>>11)
	}
	return b
}

// TestUploadFraming: a body within the request buffer reaches the backend
// with a Content-Length whatever its framing (as before streaming); a
// larger one keeps its Content-Length, or is streamed chunked when the
// client sent it chunked; every byte arrives.
func TestUploadFraming(t *testing.T) {
	small, large := patterned(10<<10), patterned(8<<20)
	tests := []struct {
		name    string
		body    []byte
		chunked bool
		wantCL  int
	}{
		{"small with a length", small, false, len(small)},
		{"small chunked", small, true, len(small)},
		{"large with a length", large, false, len(large)},
		{"large chunked", large, true, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seen := make(chan uploadSeen, 1)
			up := &Upstream{Pool: newTestPool(t, "web", digestBackend(t, seen))}
			l := startTCPLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{MaxRequestBodySize: 64 << 20})
			var body io.Reader = bytes.NewReader(tc.body)
			if tc.chunked {
				body = struct{ io.Reader }{body} // no length known: net/http sends it chunked
			}
			resp, err := httpClient(t).Post("http://"+l.addr(t)+"/up", "application/octet-stream", body)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(got) != fmt.Sprint(len(tc.body)) {
				t.Fatalf("status %d, body %q", resp.StatusCode, got)
			}
			u := <-seen
			if u.contentLength != tc.wantCL || u.n != int64(len(tc.body)) || u.digest != sha256.Sum256(tc.body) {
				t.Errorf("backend saw Content-Length %d, %d bytes, digest match %v; want %d, %d",
					u.contentLength, u.n, u.digest == sha256.Sum256(tc.body), tc.wantCL, len(tc.body))
			}
			checkReleasedEventually(t, up.Pool)
		})
	}
}

// TestUploadRetryRules: a streamed body goes to another backend when the
// first could not be reached (nothing of it was sent), and is not sent
// again once a byte of it went, even for an idempotent method.
func TestUploadRetryRules(t *testing.T) {
	body := patterned(1 << 20)
	t.Run("connect failure", func(t *testing.T) {
		seen := make(chan uploadSeen, 1)
		up := &Upstream{Pool: newTestPool(t, "web", refusedAddr(t), digestBackend(t, seen))}
		l := startTCPLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
		for i := 0; i < 2; i++ { // whichever backend round robin picks first
			req, _ := newPut("http://"+l.addr(t)+"/", body)
			resp, err := httpClient(t).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("status %d, want 200 (retried on the other backend)", resp.StatusCode)
			}
			if u := <-seen; u.n != int64(len(body)) {
				t.Errorf("backend got %d bytes", u.n)
			}
		}
	})
	t.Run("reset after part of the body", func(t *testing.T) {
		var other atomic.Int64
		cut := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
			io.CopyN(io.Discard, br, 100<<10)
			_ = c.(*net.TCPConn).SetLinger(0)
		})
		ok := okBackend(t, "ok", &other)
		up := &Upstream{Pool: newTestPool(t, "web", cut, ok)}
		l := startTCPLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
		req, _ := newPut("http://"+l.addr(t)+"/", body)
		resp, err := httpClient(t).Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != 502 {
				t.Errorf("status %d, want 502", resp.StatusCode)
			}
		}
		if other.Load() != 0 {
			t.Errorf("the other backend got the request: a streamed body was sent twice")
		}
		checkReleasedEventually(t, up.Pool)
	})
}

// TestUploadClientFailures: a client that sends a chunked body past
// max_request_body_size gets 413, one that stalls mid-body 408; the
// backend connection is closed, and neither is held against the backend.
func TestUploadClientFailures(t *testing.T) {
	tests := []struct {
		name   string
		send   string
		status int
		reason Reject
	}{
		{"chunked over the limit", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
			chunk(strings.Repeat("a", 40<<10)) + chunk(strings.Repeat("a", 40<<10)), 413, RejectBodyTooLarge},
		{"stalled mid-body", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n" + strings.Repeat("s", 40<<10), 408, RejectBodyTimeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			backendGone := make(chan struct{})
			backend := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
				io.Copy(io.Discard, br)
				close(backendGone)
			})
			up := &Upstream{Pool: newTestPool(t, "web", backend)}
			h := NewHandler("public", Routes{Default: up}, nil)
			l := startTCPLB(t, h, ServerOptions{MaxRequestBodySize: 64 << 10, BodyReadTimeout: 300 * time.Millisecond})
			c := dialLB(t, l)
			hd := c.head(t, tc.send)
			if hd.StatusCode() != tc.status || !hd.ConnectionClose() {
				t.Errorf("status %d, close %v; want %d and Connection: close", hd.StatusCode(), hd.ConnectionClose(), tc.status)
			}
			select {
			case <-backendGone:
			case <-time.After(5 * time.Second):
				t.Error("backend connection still open")
			}
			if n := h.Rejections().Count(tc.reason); n != 1 {
				t.Errorf("%s counted %d, want 1", tc.reason, n)
			}
			checkReleasedEventually(t, up.Pool)
			if n := backendErrors(t, up.Pool, backend); n != 0 {
				t.Errorf("backend errors = %d, want 0", n)
			}
		})
	}
}

// TestUploadOutlivesReadTimeout: a streamed body that keeps coming is not
// cut by read_timeout (the whole-request limit of buffered bodies): each
// of its reads is bounded by body_read_timeout instead.
func TestUploadOutlivesReadTimeout(t *testing.T) {
	seen := make(chan uploadSeen, 1)
	up := &Upstream{Pool: newTestPool(t, "web", digestBackend(t, seen))}
	log, logs := observedLogger()
	t.Cleanup(func() {
		for _, e := range logs.All() {
			t.Log(e.Message, e.ContextMap())
		}
	})
	l := startTCPLB(t, NewHandler("public", Routes{Default: up}, log),
		ServerOptions{ReadTimeout: 300 * time.Millisecond, BodyReadTimeout: 300 * time.Millisecond})
	pr, pw := io.Pipe()
	go func() {
		piece := patterned(32 << 10)
		for i := 0; i < 12; i++ { // 1.2s
			pw.Write(piece)
			time.Sleep(100 * time.Millisecond)
		}
		pw.Close()
	}()
	resp, err := httpClient(t).Post("http://"+l.addr(t)+"/", "application/octet-stream", pr)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if u := <-seen; u.n != 12*32<<10 {
		t.Errorf("backend got %d bytes", u.n)
	}
}

// newPut is a PUT (idempotent: retryable but for the streamed body) with
// body, whose length net/http sends.
func newPut(url string, body []byte) (*http.Request, error) {
	return http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
}
