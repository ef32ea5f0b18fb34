package stream

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/valyala/fasthttp"
)

// server runs a fasthttp server that answers the endpoints through a
// Handler (404 elsewhere), tagging answers X-Backend: t1.
type server struct {
	h    *Handler
	srv  *fasthttp.Server
	addr string
	ln   net.Listener
	done chan struct{}
}

func startServer(t *testing.T) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{h: NewHandler(), addr: ln.Addr().String(), ln: ln, done: make(chan struct{})}
	s.srv = &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.Response.Header.Set("X-Backend", "t1")
		if !s.h.Serve(ctx) {
			ctx.SetStatusCode(fasthttp.StatusNotFound)
		}
	}}
	ConfigureServer(s.srv)
	go func() {
		defer close(s.done)
		s.srv.Serve(ln)
	}()
	t.Cleanup(s.close)
	return s
}

func (s *server) close() {
	s.h.Close()
	s.srv.Shutdown()
	s.ln.Close() // a Shutdown before Serve registered it would not
	<-s.done
	s.h.Wait()
}

func (s *server) url(path string) string { return "http://" + s.addr + path }

// client returns an HTTP client with its own connections, closed at
// cleanup.
func client(t *testing.T) *http.Client {
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// rawGet sends one GET on a fresh connection and returns everything the
// server sent until it closed the connection (the request asks it to).
func rawGet(t *testing.T, addr, path string) []byte {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path)
	all, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return all
}

// TestBytes: every framing of /bytes, read with net/http and checked byte
// for byte; cut bodies end where they were asked to, with the framing
// left incomplete.
func TestBytes(t *testing.T) {
	s := startServer(t)
	c := client(t)
	for _, tc := range []struct {
		name    string
		b       Bytes
		chunked bool  // Transfer-Encoding: chunked, no Content-Length
		got     int64 // bytes the client gets before the end or the error
		cut     bool  // the body ends with an error
	}{
		{"empty", Bytes{}, false, 0, false},
		{"content-length", Bytes{N: 3*BlockSize + 17, Seed: 4}, false, 3*BlockSize + 17, false},
		{"chunked", Bytes{N: 2*BlockSize + 5, Seed: 4, Chunked: true}, true, 2*BlockSize + 5, false},
		{"cut, content-length", Bytes{N: 1 << 20, Abort: true, AbortAfter: 300000}, false, 300000, true},
		{"cut, chunked", Bytes{N: 1 << 20, Chunked: true, Abort: true, AbortAfter: 300000}, true, 300000, true},
		{"cut at 0", Bytes{N: 10, Abort: true}, false, 0, true},
		{"all sent, then chunked cut", Bytes{N: 1000, Chunked: true, Abort: true, AbortAfter: 1000}, true, 1000, true},
		{"paced, content-length", Bytes{N: 100000, Seed: 2, Rate: 2 << 20}, false, 100000, false},
		{"paced, chunked", Bytes{N: 100000, Seed: 2, Rate: 2 << 20, Chunked: true}, true, 100000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := c.Get(s.url(tc.b.Path()))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("X-Backend") != "t1" || resp.Header.Get("Content-Type") != "application/octet-stream" {
				t.Errorf("status %d, X-Backend %q, Content-Type %q", resp.StatusCode, resp.Header.Get("X-Backend"), resp.Header.Get("Content-Type"))
			}
			if chunked := len(resp.TransferEncoding) > 0; chunked != tc.chunked {
				t.Errorf("chunked %v, want %v", chunked, tc.chunked)
			}
			if !tc.chunked && resp.ContentLength != tc.b.N {
				t.Errorf("Content-Length %d, want %d", resp.ContentLength, tc.b.N)
			}
			v := NewVerifier(NewContent(tc.b.Seed), tc.b.N)
			_, err = io.Copy(v, resp.Body)
			if tc.cut {
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("cut body ended with %v, want unexpected EOF", err)
				}
			} else if err != nil || v.Check() != nil {
				t.Errorf("body: %v, %v", err, v.Check())
			}
			if v.Received() != tc.got {
				t.Errorf("got %d matching bytes, want %d", v.Received(), tc.got)
			}
		})
	}
}

// TestBytesCutFraming reads cut bodies off the wire: the header says what
// a whole body would be, exactly the asked bytes follow, and nothing ends
// the body (no terminating chunk).
func TestBytesCutFraming(t *testing.T) {
	s := startServer(t)
	all := rawGet(t, s.addr, Bytes{N: 5000, Abort: true, AbortAfter: 1234}.Path())
	head, body, _ := bytes.Cut(all, []byte("\r\n\r\n"))
	if !bytes.Contains(head, []byte("Content-Length: 5000")) || !bytes.Contains(head, []byte("Connection: close")) || len(body) != 1234 {
		t.Errorf("content-length cut: header %q, %d body bytes, want 1234", head, len(body))
	}
	all = rawGet(t, s.addr, Bytes{N: 5000, Chunked: true, Abort: true, AbortAfter: 1234}.Path())
	head, body, _ = bytes.Cut(all, []byte("\r\n\r\n"))
	if !bytes.Contains(head, []byte("Transfer-Encoding: chunked")) || bytes.Contains(head, []byte("Content-Length")) {
		t.Errorf("chunked cut: header %q", head)
	}
	want := fmt.Sprintf("%x\r\n", 1234)
	if !bytes.HasPrefix(body, []byte(want)) || len(body) != len(want)+1234+2 || bytes.HasSuffix(body, []byte("0\r\n\r\n")) {
		t.Errorf("chunked cut: body of %d bytes starting %q, want one chunk of 1234 and no end", len(body), body[:min(len(body), 10)])
	}
	// A paced chunked body that is not cut ends properly.
	all = rawGet(t, s.addr, Bytes{N: 3000, Chunked: true, Rate: 1 << 20}.Path())
	if !bytes.HasSuffix(all, []byte("\r\n0\r\n\r\n")) {
		t.Errorf("paced chunked body does not end with the last chunk: %q", all[max(len(all)-20, 0):])
	}
}

// TestBytesRate: a paced body takes about size / rate.
func TestBytesRate(t *testing.T) {
	s := startServer(t)
	c := client(t)
	for _, chunked := range []bool{false, true} {
		b := Bytes{N: 300 << 10, Rate: 1 << 20, Chunked: chunked}
		start := time.Now()
		resp, err := c.Get(s.url(b.Path()))
		if err != nil {
			t.Fatal(err)
		}
		v := NewVerifier(NewContent(0), b.N)
		_, err = io.Copy(v, resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if err != nil || v.Check() != nil {
			t.Errorf("chunked %v: %v %v", chunked, err, v.Check())
		}
		// 300 KiB at 1 MiB/s: 293 ms, less the first step sent at once.
		if d < 250*time.Millisecond || d > 5*time.Second {
			t.Errorf("chunked %v: 300 KiB at 1 MiB/s took %s, want about 290ms", chunked, d)
		}
	}
}

// TestBadRequests: bad parameters and methods are refused with a JSON
// error.
func TestBadRequests(t *testing.T) {
	s := startServer(t)
	c := client(t)
	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{"GET", "/bytes", 400},
		{"GET", "/bytes?n=-1", 400},
		{"GET", "/bytes?n=2TiB", 400},
		{"GET", "/bytes?n=10&seed=x", 400},
		{"GET", "/bytes?n=10&chunked=maybe", 400},
		{"GET", "/bytes?n=10&abort_after=11", 400},
		{"GET", "/bytes?n=10&rate=0", 400},
		{"POST", "/bytes?n=10", 405},
		{"GET", "/sse?every=0s", 400},
		{"GET", "/sse?every=soon", 400},
		{"GET", "/sse?n=-2", 400},
		{"POST", "/sse", 405},
		{"GET", "/upload", 405},
		{"GET", "/other", 404},
	} {
		req, _ := http.NewRequest(tc.method, s.url(tc.path), nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, resp.StatusCode, body, tc.code)
		}
		if tc.code != 404 && !bytes.HasPrefix(body, []byte(`{"error":`)) {
			t.Errorf("%s %s: body %q, want a JSON error", tc.method, tc.path, body)
		}
	}
}

// TestHead: HEAD /bytes has the header of the GET and no body.
func TestHead(t *testing.T) {
	s := startServer(t)
	c := client(t)
	for _, b := range []Bytes{{N: 5 << 20}, {N: 5 << 20, Rate: 1 << 20}} {
		resp, err := c.Head(s.url(b.Path()))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.ContentLength != b.N {
			t.Errorf("HEAD %s: %d, Content-Length %d", b.Path(), resp.StatusCode, resp.ContentLength)
		}
	}
}

// TestSSE: n events, one every interval, each readable as soon as it is
// written; the stream then ends.
func TestSSE(t *testing.T) {
	s := startServer(t)
	c := client(t)
	const every, n = 50 * time.Millisecond, 6
	start := time.Now()
	resp, err := c.Get(s.url(SSE{Every: every, N: n}.Path()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" || resp.ContentLength != -1 || resp.Header.Get("X-Backend") != "t1" {
		t.Errorf("Content-Type %q, Content-Length %d, X-Backend %q", ct, resp.ContentLength, resp.Header.Get("X-Backend"))
	}
	er := NewEventReader(resp.Body)
	for i := int64(1); i <= n; i++ {
		e, err := er.Next()
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if e.ID != fmt.Sprint(i) || e.Seq != i {
			t.Errorf("event %d: id %q seq %d", i, e.ID, e.Seq)
		}
		// Loopback, no proxy: a flushed event is read within
		// milliseconds (generous for a loaded race-built run).
		if d := e.Delay(); d < 0 || d > 50*time.Millisecond {
			t.Errorf("%s: want a delay under 50ms", e)
		}
		if at := e.Received.Sub(start); at < time.Duration(i-1)*every-5*time.Millisecond {
			t.Errorf("%s arrived %s after the request, before its time", e, at)
		}
	}
	if _, err := er.Next(); err != io.EOF {
		t.Errorf("after %d events: %v, want EOF", n, err)
	}
}

// TestSSEClientGoesAway: an endless stream's writer stops soon after its
// client closes the connection; Close ends the others.
func TestSSEClientGoesAway(t *testing.T) {
	s := startServer(t)
	c := client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.url(SSE{Every: 20 * time.Millisecond}.Path()), nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	er := NewEventReader(resp.Body)
	for range 3 {
		if _, err := er.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if s.h.sseActive.Load() != 1 {
		t.Fatalf("%d SSE writers running, want 1", s.h.sseActive.Load())
	}
	cancel()
	resp.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	for s.h.sseActive.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the SSE writer still runs 10s after its client went away")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Another endless stream, ended by Close: its client sees the end.
	resp, err = c.Get(s.url(SSE{Every: 20 * time.Millisecond}.Path()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	er = NewEventReader(resp.Body)
	if _, err := er.Next(); err != nil {
		t.Fatal(err)
	}
	s.close()
	for {
		if _, err := er.Next(); err != nil {
			if err != io.EOF {
				t.Errorf("stream ended by Close with %v, want EOF (a clean end)", err)
			}
			break
		}
	}
}

// TestCloseCutsPacedBodies: Close ends a slow paced body at once.
func TestCloseCutsPacedBodies(t *testing.T) {
	s := startServer(t)
	c := client(t)
	resp, err := c.Get(s.url(Bytes{N: 10 << 20, Rate: 100 << 10}.Path()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadFull(resp.Body, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s.close()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %s", d)
	}
	if _, err := io.Copy(io.Discard, resp.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("body after Close: %v, want unexpected EOF", err)
	}
	if code := s.h.serveOne("/bytes?n=1"); code != 503 {
		t.Errorf("a request after Close got %d, want 503", code)
	}
}

// TestUpload: bodies of every framing and size are hashed as they arrive;
// the answer matches Digest.
func TestUpload(t *testing.T) {
	s := startServer(t)
	c := client(t)
	content := NewContent(11)
	for _, tc := range []struct {
		name    string
		n       int64
		chunked bool
	}{
		{"empty", 0, false},
		{"small", 100, false},
		{"several MiB", 5*BlockSize + 3, false},
		{"chunked", 3*BlockSize + 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader = NewReader(content, tc.n)
			if tc.chunked {
				body = iotest.HalfReader(body) // hides the length: net/http sends it chunked
			}
			req, _ := http.NewRequest("POST", s.url(PathUpload), body)
			if !tc.chunked {
				req.ContentLength = tc.n
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var res UploadResult
			if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != 200 {
				t.Fatalf("%d %v", resp.StatusCode, err)
			}
			if res.Bytes != tc.n || res.SHA256 != Digest(content, tc.n) {
				t.Errorf("answer %+v, want %d bytes, sha256 %s", res, tc.n, Digest(content, tc.n))
			}
		})
	}
}

// TestUploadCut: a body that stops short of its Content-Length gets 400
// with what was read, when the server still can answer.
func TestUploadCut(t *testing.T) {
	s := startServer(t)
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(conn, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n%s", strings.Repeat("a", 50000))
	conn.(*net.TCPConn).CloseWrite()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res UploadResult
	json.NewDecoder(resp.Body).Decode(&res)
	if resp.StatusCode != 400 || res.Bytes != 50000 || res.Error == "" {
		t.Errorf("%d %+v, want 400 with 50000 bytes and an error", resp.StatusCode, res)
	}
}

// serveOne runs the handler on a request for uri without a server and
// returns the status code.
func (h *Handler) serveOne(uri string) int {
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI(uri)
	h.Serve(&ctx)
	return ctx.Response.StatusCode()
}

func TestPaths(t *testing.T) {
	for b, want := range map[Bytes]string{
		{N: 10}: "/bytes?n=10",
		{N: 10, Seed: 3, Chunked: true, Abort: true, AbortAfter: 4, Rate: 100}: "/bytes?abort_after=4&chunked=1&n=10&rate=100&seed=3",
		{N: 10, Abort: true}: "/bytes?abort_after=0&n=10",
	} {
		if got := b.Path(); got != want {
			t.Errorf("%+v.Path() = %q, want %q", b, got, want)
		}
	}
	for s, want := range map[SSE]string{{}: "/sse", {Every: time.Second, N: 5}: "/sse?every=1s&n=5"} {
		if got := s.Path(); got != want {
			t.Errorf("%+v.Path() = %q, want %q", s, got, want)
		}
	}
}

func TestEventReader(t *testing.T) {
	in := ": comment\n\nid: 1\ndata: {\"seq\":1,\"sent_unix_ns\":1000}\n\nretry: 5\ndata: a\ndata: b\r\n\r\nid: 3\ndata: x"
	er := NewEventReader(strings.NewReader(in))
	e, err := er.Next()
	if err != nil || e.ID != "1" || e.Seq != 1 || e.Sent != time.Unix(0, 1000) {
		t.Errorf("first: %+v %v", e, err)
	}
	e, err = er.Next()
	if err != nil || string(e.Data) != "a\nb" || e.Seq != 0 {
		t.Errorf("second: %+v %v", e, err)
	}
	if _, err := er.Next(); err != io.ErrUnexpectedEOF {
		t.Errorf("truncated third: %v", err)
	}
	if got := string(AppendEvent(nil, 7, 42)); got != "id: 7\ndata: {\"seq\":7,\"sent_unix_ns\":42}\n\n" {
		t.Errorf("AppendEvent = %q", got)
	}
}
