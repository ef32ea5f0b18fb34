package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http/httputil"
	"net/netip"
	"net/textproto"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbtrust/lb/balancer"
	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp/fasthttputil"
)

// FuzzProxyRawRequest feeds arbitrary bytes as one client connection to
// the LB's fasthttp.Server (NewServer running a Handler) in front of a
// recording in-memory backend. The LB must never panic, must end the
// connection (never hang), must answer every request it forwarded, and
// the backend must never receive a request carrying both Content-Length
// and Transfer-Encoding. trusted picks a peer in or out of
// trusted_proxies. One backend, handler and server serve every input.
func FuzzProxyRawRequest(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
		"POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\r\nConnection: X-Forwarded-For\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
		"HEAD / HTTP/1.0\r\n\r\n",
	} {
		f.Add([]byte(s), false)
	}

	be := startRecordingBackend(f)
	pol, err := balancer.New(balancer.RoundRobin)
	if err != nil {
		f.Fatal(err)
	}
	p := pool.New(pool.Options{Name: "web", Policy: pol})
	b, _, _ := p.Add("backend.inmemory:80", 1)
	c := newBackendClient("backend.inmemory:80", ClientOptions{IdleConnTimeout: testIdle},
		func(string, time.Duration) (net.Conn, error) { return be.ln.Dial() })
	f.Cleanup(c.CloseIdle)
	b.Attach(c)
	b.ObserveCheck(pool.CheckResult{Outcome: pool.ReasonCheckPassed})
	h := NewHandler("public", Routes{Default: &Upstream{Pool: p, ResponseTimeout: 5 * time.Second}}, nil)
	h.SetTrustedProxies([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	srv := NewServer(h, ServerOptions{MaxRequestBodySize: 64 << 10}, nil)
	srv.MaxIdleWorkerDuration = testWorkerIdle

	f.Fuzz(func(t *testing.T, data []byte, trusted bool) {
		peer := net.IPv4(192, 0, 2, 1)
		if trusted {
			peer = net.IPv4(10, 0, 0, 1)
		}
		conn := &fuzzConn{in: bytes.NewReader(data), peer: &net.TCPAddr{IP: peer, Port: 40000}}
		before := be.requests.Load()
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = srv.ServeConn(conn)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("the LB neither answered nor closed in 10s on %q", data)
		}
		if bad := be.bad.Load(); bad != nil {
			t.Fatalf("backend got Content-Length with Transfer-Encoding:\n%s\nfrom client bytes %q", *bad, data)
		}
		out := conn.out.Bytes()
		if len(out) > 0 && !bytes.HasPrefix(out, []byte("HTTP/1.1 ")) {
			t.Fatalf("answer is not HTTP/1.1: %q", out)
		}
		forwarded := be.requests.Load() - before
		if answers := int64(bytes.Count(out, []byte("HTTP/1.1 "))); answers < forwarded {
			t.Fatalf("%d requests forwarded, %d answers: %q", forwarded, answers, out)
		}
	})
	checkReleased(f, p)
}

// fuzzConn is a client connection that sends in and then half-closes
// (reads give io.EOF), and records everything the server writes.
type fuzzConn struct {
	in   *bytes.Reader
	out  bytes.Buffer
	peer net.Addr
}

func (c *fuzzConn) Read(p []byte) (int, error)       { return c.in.Read(p) }
func (c *fuzzConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *fuzzConn) Close() error                     { return nil }
func (c *fuzzConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80} }
func (c *fuzzConn) RemoteAddr() net.Addr             { return c.peer }
func (c *fuzzConn) SetDeadline(time.Time) error      { return nil }
func (c *fuzzConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fuzzConn) SetWriteDeadline(time.Time) error { return nil }

// recordingBackend is a minimal HTTP/1.1 server on an in-memory listener
// that frames requests itself (a real server would hide a Content-Length
// next to a Transfer-Encoding), records any request carrying both, and
// answers 200 "ok".
type recordingBackend struct {
	ln       *fasthttputil.InmemoryListener
	requests atomic.Int64
	bad      atomic.Pointer[string]
}

func startRecordingBackend(t testing.TB) *recordingBackend {
	be := &recordingBackend{ln: fasthttputil.NewInmemoryListener()}
	serveConns(t, be.ln, be.serve)
	return be
}

func (be *recordingBackend) serve(c net.Conn) {
	tr := textproto.NewReader(bufio.NewReader(c))
	for {
		line, err := tr.ReadLine()
		if err != nil {
			return
		}
		hdr, err := tr.ReadMIMEHeader()
		if err != nil {
			return
		}
		be.requests.Add(1)
		_, hasCL := hdr["Content-Length"]
		_, hasTE := hdr["Transfer-Encoding"]
		if hasCL && hasTE {
			s := line + "\n" + headerString(hdr)
			be.bad.CompareAndSwap(nil, &s)
			return
		}
		switch {
		case hasTE:
			if !strings.EqualFold(strings.TrimSpace(hdr.Get("Transfer-Encoding")), "chunked") {
				return
			}
			if _, err := io.Copy(io.Discard, httputil.NewChunkedReader(tr.R)); err != nil {
				return
			}
			if _, err := tr.ReadMIMEHeader(); err != nil { // trailers
				return
			}
		case hasCL:
			n, err := strconv.ParseInt(hdr.Get("Content-Length"), 10, 64)
			if err != nil || n < 0 || len(hdr["Content-Length"]) > 1 {
				return
			}
			if _, err := io.CopyN(io.Discard, tr.R, n); err != nil {
				return
			}
		}
		answer := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
		if strings.HasPrefix(line, "HEAD ") {
			answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
		}
		if _, err := c.Write([]byte(answer)); err != nil {
			return
		}
	}
}

func headerString(h textproto.MIMEHeader) string {
	var b strings.Builder
	for k, vs := range h {
		for _, v := range vs {
			b.WriteString(k + ": " + v + "\n")
		}
	}
	return b.String()
}

// TestRecordingBackendSeesCLTE checks the fuzz oracle itself: a request
// with both framing headers is recorded, a plain one is counted.
func TestRecordingBackendSeesCLTE(t *testing.T) {
	be := startRecordingBackend(t)
	c, err := be.ln.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = c.Write([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n" +
		"POST / HTTP/1.1\r\nHost: a\r\ncontent-length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"))
	br := bufio.NewReader(c)
	if line, err := br.ReadString('\n'); err != nil || line != "HTTP/1.1 200 OK\r\n" {
		t.Fatalf("first answer %q, %v", line, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for be.bad.Load() == nil && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if be.bad.Load() == nil || be.requests.Load() != 2 {
		t.Fatalf("bad %v, requests %d", be.bad.Load(), be.requests.Load())
	}
}
