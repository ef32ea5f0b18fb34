package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// limitsLB serves a Handler over an okBackend on a loopback port with o,
// and returns it with the backend's request count.
func limitsLB(t *testing.T, o ServerOptions) (*lb, *atomic.Int64) {
	t.Helper()
	n := &atomic.Int64{}
	up := &Upstream{Pool: newTestPool(t, "web", okBackend(t, "ok", n))}
	return startTCPLB(t, NewHandler("public", Routes{Default: up}, nil), o), n
}

// waitCount polls until r's count for reason reaches want.
func waitCount(t *testing.T, l *lb, reason Reject, want uint64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for l.h.Rejections().Count(reason) < want {
		if time.Now().After(deadline) {
			t.Fatalf("%s count %d, want %d", reason, l.h.Rejections().Count(reason), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readClosed reads c until EOF or an error other than a timeout and
// returns what it got; it fails t if c is still open after within.
func readClosed(t *testing.T, c net.Conn, within time.Duration) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(within))
	b, err := io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection still open after %s (read %d bytes)", within, len(b))
	}
	return string(b)
}

func TestHeaderLimits(t *testing.T) {
	o := ServerOptions{MaxHeaderBytes: 4096, MaxHeaderCount: 5, MaxURILength: 100}
	fields := func(n int) string {
		var b strings.Builder
		b.WriteString("Host: lb\r\n")
		for i := 1; i < n; i++ {
			fmt.Fprintf(&b, "X-F%d: v\r\n", i)
		}
		return b.String()
	}
	tests := []struct {
		name    string
		req     string
		status  int
		msg     string
		reason  Reject
		refused bool
	}{
		{"header at the field limit", "GET / HTTP/1.1\r\n" + fields(5) + "\r\n", 200, "", 0, false},
		{"one field too many", "GET / HTTP/1.1\r\n" + fields(6) + "\r\n", 431, "too many header fields", RejectTooManyHeaders, true},
		{"header bytes over the limit", "GET / HTTP/1.1\r\nHost: lb\r\nX-Big: " + strings.Repeat("a", 5000) + "\r\n\r\n", 431, "request header too large", RejectHeaderTooLarge, true},
		{"URI at the limit", "GET /" + strings.Repeat("u", 99) + " HTTP/1.1\r\nHost: lb\r\n\r\n", 200, "", 0, false},
		{"URI one byte over", "GET /" + strings.Repeat("u", 100) + " HTTP/1.1\r\nHost: lb\r\n\r\n", 414, "request URI too long", RejectURITooLong, true},
		{"absolute-form URI over", "GET http://lb/" + strings.Repeat("u", 100) + " HTTP/1.1\r\nHost: lb\r\n\r\n", 414, "request URI too long", RejectURITooLong, true},
		{"long URI with a small body", "POST /" + strings.Repeat("u", 200) + " HTTP/1.1\r\nHost: lb\r\nContent-Length: 1\r\n\r\nx", 414, "request URI too long", RejectURITooLong, true},
		{"too many fields with a body", "POST / HTTP/1.1\r\n" + fields(6) + "Content-Length: 3\r\n\r\nabc", 431, "too many header fields", RejectTooManyHeaders, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, n := limitsLB(t, o)
			resp := l.conn(t).raw(tc.req, false)
			if !tc.refused {
				if resp.StatusCode() != 200 {
					t.Fatalf("status %d (%q), want 200", resp.StatusCode(), resp.Body())
				}
				for r := Reject(0); r < NumRejects; r++ {
					if c := l.h.Rejections().Count(r); c != 0 {
						t.Errorf("%s counted %d for an accepted request", r, c)
					}
				}
				return
			}
			wantJSONError(t, resp, tc.status, tc.msg, "")
			if !resp.ConnectionClose() {
				t.Errorf("refusal without Connection: close")
			}
			if c := l.h.Rejections().Count(tc.reason); c != 1 {
				t.Errorf("%s counted %d, want 1", tc.reason, c)
			}
			if n.Load() != 0 {
				t.Errorf("backend saw %d requests, want 0", n.Load())
			}
		})
	}
}

// TestRefusedBeforeBody declares a 100 MB body and sends only a few KB of
// it: the LB must answer (and close) without waiting for the rest.
func TestRefusedBeforeBody(t *testing.T) {
	tests := []struct {
		name, head string
		status     int
		reason     Reject
	}{
		{"413 declared body over the limit", "POST / HTTP/1.1\r\nHost: lb\r\nContent-Length: 100000000\r\n\r\n", 413, RejectBodyTooLarge},
		{"414 long URI with a large body", "POST /" + strings.Repeat("u", 200) + " HTTP/1.1\r\nHost: lb\r\nContent-Length: 100000000\r\n\r\n", 414, RejectURITooLong},
		{"431 many fields with a large body", "POST / HTTP/1.1\r\nHost: lb\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nContent-Length: 100000000\r\n\r\n", 431, RejectTooManyHeaders},
		{"413 chunked body over the limit", "POST / HTTP/1.1\r\nHost: lb\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n" + strings.Repeat("a", 4096) + "\r\n1000\r\n", 413, RejectBodyTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, n := limitsLB(t, ServerOptions{MaxRequestBodySize: 4096, MaxURILength: 100, MaxHeaderCount: 5})
			c := l.conn(t)
			_ = c.c.SetDeadline(time.Now().Add(20 * time.Second))
			if _, err := io.WriteString(c.c, tc.head+strings.Repeat("b", 4096)); err != nil {
				t.Fatal(err)
			}
			// Nothing more is sent: only an answer given before the body
			// arrived can come back.
			resp := &fasthttp.Response{}
			if err := resp.Read(c.br); err != nil {
				t.Fatalf("no answer before the body was sent: %v", err)
			}
			if resp.StatusCode() != tc.status {
				t.Fatalf("status %d (%q), want %d", resp.StatusCode(), resp.Body(), tc.status)
			}
			readClosed(t, c.c, 20*time.Second)
			if got := l.h.Rejections().Count(tc.reason); got != 1 {
				t.Errorf("%s counted %d, want 1", tc.reason, got)
			}
			if n.Load() != 0 {
				t.Errorf("backend saw %d requests, want 0", n.Load())
			}
		})
	}
}

// normalClient sends GETs on one kept-alive connection until stop is
// closed and reports how many were answered 200, and the slowest.
func normalClient(t *testing.T, l *lb, stop <-chan struct{}) (ok int, slowest time.Duration) {
	t.Helper()
	c := l.conn(t)
	for {
		select {
		case <-stop:
			return ok, slowest
		default:
		}
		start := time.Now()
		if resp := c.raw("GET / HTTP/1.1\r\nHost: lb\r\n\r\n", false); resp.StatusCode() != 200 {
			t.Errorf("normal client got %d %q", resp.StatusCode(), resp.Body())
			return ok, slowest
		}
		ok++
		slowest = max(slowest, time.Since(start))
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSlowloris: clients trickling their header one byte per second are
// closed at read_header_timeout (bytes arriving do not extend it), with a
// 408, while a normal client keeps being served meanwhile.
func TestSlowloris(t *testing.T) {
	const timeout = 2500 * time.Millisecond
	l, _ := limitsLB(t, ServerOptions{ReadHeaderTimeout: timeout})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var ok int
	var slowest time.Duration
	wg.Go(func() { ok, slowest = normalClient(t, l, stop) })

	const slow = 5
	header := "GET / HTTP/1.1\r\nHost: lb\r\nX-Slow: " + strings.Repeat("s", 50) + "\r\n\r\n"
	var closedAfter [slow]time.Duration
	var answers [slow]string
	var slowWG sync.WaitGroup
	for i := range slow {
		c := l.conn(t)
		slowWG.Go(func() {
			start := time.Now()
			go func() { // the trickle; ends when the LB closes the connection
				for j := 0; j < len(header); j++ {
					if _, err := c.c.Write([]byte{header[j]}); err != nil {
						return
					}
					time.Sleep(time.Second)
				}
			}()
			answers[i] = readClosed(t, c.c, 30*time.Second)
			closedAfter[i] = time.Since(start)
			c.c.Close()
		})
	}
	slowWG.Wait()
	close(stop)
	wg.Wait()
	for i := range slow {
		if closedAfter[i] < timeout-100*time.Millisecond || closedAfter[i] > timeout+5*time.Second {
			t.Errorf("slow client %d closed after %s, want about %s", i, closedAfter[i], timeout)
		}
		if !strings.HasPrefix(answers[i], "HTTP/1.1 408 ") {
			t.Errorf("slow client %d got %q, want a 408", i, answers[i])
		}
	}
	waitCount(t, l, RejectHeaderTimeout, slow)
	if ok < 10 {
		t.Errorf("normal client served %d requests while the slow ones hung on, want many", ok)
	}
	t.Logf("normal client: %d requests, slowest %s", ok, slowest)
}

// TestSlowPOST: a body trickled after a prompt header is cut at
// body_read_timeout with a 408, never forwarded; a normal client is
// served meanwhile.
func TestSlowPOST(t *testing.T) {
	const timeout = 1500 * time.Millisecond
	l, n := limitsLB(t, ServerOptions{BodyReadTimeout: timeout})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var ok int
	wg.Go(func() { ok, _ = normalClient(t, l, stop) })

	c := l.conn(t)
	start := time.Now()
	if _, err := io.WriteString(c.c, "POST / HTTP/1.1\r\nHost: lb\r\nContent-Length: 1000\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range 1000 {
			if _, err := c.c.Write([]byte("x")); err != nil {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	answer := readClosed(t, c.c, 30*time.Second)
	took := time.Since(start)
	c.c.Close()
	close(stop)
	wg.Wait()
	if took < timeout-100*time.Millisecond || took > timeout+5*time.Second {
		t.Errorf("slow POST closed after %s, want about %s", took, timeout)
	}
	if !strings.HasPrefix(answer, "HTTP/1.1 408 ") {
		t.Errorf("slow POST got %q, want a 408", answer)
	}
	waitCount(t, l, RejectBodyTimeout, 1)
	if got := l.h.Rejections().Count(RejectHeaderTimeout); got != 0 {
		t.Errorf("a body timeout counted as %d header timeouts", got)
	}
	if n.Load() != uint64ToInt64(uint64(ok)) {
		t.Errorf("backend saw %d requests, want %d (only the normal client's)", n.Load(), ok)
	}
	if ok < 5 {
		t.Errorf("normal client served %d requests meanwhile, want many", ok)
	}
}

func uint64ToInt64(v uint64) int64 { return int64(v) }

// TestReadTimeoutCapsWholeRequest: read_timeout still bounds header and
// body together, from the request's first byte, even when the header
// and body timeouts would each allow more.
func TestReadTimeoutCapsWholeRequest(t *testing.T) {
	const whole = 3 * time.Second
	l, _ := limitsLB(t, ServerOptions{ReadTimeout: whole, ReadHeaderTimeout: whole, BodyReadTimeout: whole})
	c := l.conn(t)
	head := "POST / HTTP/1.1\r\nHost: lb\r\nContent-Length: 1000\r\n\r\n"
	start := time.Now()
	go func() {
		// The header over about 2s, then the body: uncapped, the body
		// timeout would end at about 2s + 3s.
		for i := 0; i < len(head); i++ {
			if _, err := c.c.Write([]byte{head[i]}); err != nil {
				return
			}
			time.Sleep(2 * time.Second / time.Duration(len(head)))
		}
		for range 1000 {
			if _, err := c.c.Write([]byte("x")); err != nil {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	answer := readClosed(t, c.c, 30*time.Second)
	took := time.Since(start)
	if took < whole-100*time.Millisecond || took > whole+1500*time.Millisecond {
		t.Errorf("closed after %s, want about %s (read_timeout)", took, whole)
	}
	if !strings.HasPrefix(answer, "HTTP/1.1 408 ") {
		t.Errorf("got %q, want a 408", answer)
	}
	waitCount(t, l, RejectBodyTimeout, 1)
}

// TestSlowReader: a client that never reads a large answer is cut at
// write_timeout, and counted.
func TestSlowReader(t *testing.T) {
	big := strings.Repeat("z", 16<<20)
	up := &Upstream{Pool: newTestPool(t, "web", startBackend(t, func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString(big) }))}
	l := startTCPLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{WriteTimeout: time.Second})

	c := l.conn(t)
	if tc, ok := c.c.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	if _, err := io.WriteString(c.c, "GET / HTTP/1.1\r\nHost: lb\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	waitCount(t, l, RejectWriteTimeout, 1)
	// The LB has given up on the connection: reading now ends before the
	// whole answer, at the close.
	got := readClosed(t, c.c, 30*time.Second)
	if len(got) >= len(big) {
		t.Errorf("client read %d bytes, the whole answer; want it cut", len(got))
	}
	// A normal client is still served.
	if resp := l.get(t, "lb", "/"); resp.StatusCode() != 200 || len(resp.Body()) != len(big) {
		t.Errorf("normal client: %d, %d bytes", resp.StatusCode(), len(resp.Body()))
	}
}

// TestConnectionCap: beyond max_connections a connection gets a 503 and
// is closed at once; the ones already open are still served, and a slot
// freed by a close is reused.
func TestConnectionCap(t *testing.T) {
	l, _ := limitsLB(t, ServerOptions{MaxConnections: 3})
	var open []*conn
	for range 3 {
		c := l.conn(t)
		if resp := c.raw("GET / HTTP/1.1\r\nHost: lb\r\n\r\n", false); resp.StatusCode() != 200 {
			t.Fatalf("connection within the cap: %d", resp.StatusCode())
		}
		open = append(open, c)
	}
	extra := l.conn(t)
	start := time.Now()
	answer := readClosed(t, extra.c, 10*time.Second)
	if !strings.HasPrefix(answer, "HTTP/1.1 503 ") || !strings.Contains(answer, `{"error":"too many connections"}`) {
		t.Errorf("connection over the cap got %q, want a 503", answer)
	}
	t.Logf("connection over the cap closed after %s", time.Since(start))
	waitCount(t, l, RejectTooManyConnections, 1)
	for i, c := range open {
		if resp := c.raw("GET / HTTP/1.1\r\nHost: lb\r\n\r\n", false); resp.StatusCode() != 200 {
			t.Errorf("open connection %d: %d after the refusal", i, resp.StatusCode())
		}
	}
	open[0].c.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := l.dial()
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: lb\r\n\r\n")
		resp := &fasthttp.Response{}
		err = resp.Read(bufio.NewReader(c))
		c.Close()
		if err == nil && resp.StatusCode() == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the freed slot was never reused: %v %d", err, resp.StatusCode())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestIdleTimeoutCounted: a kept-alive connection that sends nothing
// after its answer for idle_timeout is closed and counted once as
// idle_timeout; a connection that never sent a request is a header
// timeout instead, and one kept busy is not closed.
func TestIdleTimeoutCounted(t *testing.T) {
	const idle = 600 * time.Millisecond
	l, _ := limitsLB(t, ServerOptions{IdleTimeout: idle, ReadHeaderTimeout: 5 * time.Second})
	c := l.conn(t)
	if resp := c.raw("GET / HTTP/1.1\r\nHost: lb\r\n\r\n", false); resp.StatusCode() != 200 {
		t.Fatalf("first request: %d", resp.StatusCode())
	}
	start := time.Now()
	if got := readClosed(t, c.c, 20*time.Second); got != "" {
		t.Errorf("idle connection got %q before closing, want nothing", got)
	}
	if took := time.Since(start); took < idle-100*time.Millisecond {
		t.Errorf("idle connection closed after %s, before idle_timeout %s", took, idle)
	}
	waitCount(t, l, RejectIdleTimeout, 1)

	busy := l.conn(t)
	for end := time.Now().Add(3 * idle); time.Now().Before(end); time.Sleep(idle / 4) {
		if resp := busy.raw("GET / HTTP/1.1\r\nHost: lb\r\n\r\n", false); resp.StatusCode() != 200 {
			t.Fatalf("busy connection: %d", resp.StatusCode())
		}
	}
	if got := l.h.Rejections().Count(RejectIdleTimeout); got != 1 {
		t.Errorf("idle_timeout counted %d times, want 1", got)
	}
	if got := l.h.Rejections().Count(RejectHeaderTimeout); got != 0 {
		t.Errorf("an idle close counted as %d header timeouts", got)
	}
}

// TestSlowlorisKeptAlive: on a kept-alive connection, a request whose
// header came whole is answered, and the next one, trickled, is cut at
// the header timeout from its first byte with a 408 (a header that comes
// whole gets no deadline of its own; one that does not still does).
func TestSlowlorisKeptAlive(t *testing.T) {
	const timeout = 1500 * time.Millisecond
	l, _ := limitsLB(t, ServerOptions{ReadHeaderTimeout: timeout, IdleTimeout: time.Minute})
	c := l.conn(t)
	if resp := c.raw("GET / HTTP/1.1\r\nHost: lb\r\n\r\n", false); resp.StatusCode() != 200 {
		t.Fatalf("first request: %d", resp.StatusCode())
	}
	header := "GET / HTTP/1.1\r\nHost: lb\r\nX-Slow: " + strings.Repeat("s", 50) + "\r\n\r\n"
	start := time.Now()
	go func() { // the trickle; ends when the LB closes the connection
		for j := 0; j < len(header); j++ {
			if _, err := c.c.Write([]byte{header[j]}); err != nil {
				return
			}
			time.Sleep(300 * time.Millisecond)
		}
	}()
	answer := readClosed(t, c.c, 30*time.Second)
	if took := time.Since(start); took < timeout-100*time.Millisecond || took > timeout+3*time.Second {
		t.Errorf("closed after %s, want about %s", took, timeout)
	}
	if !strings.HasPrefix(answer, "HTTP/1.1 408 ") {
		t.Errorf("got %q, want a 408", answer)
	}
	waitCount(t, l, RejectHeaderTimeout, 1)
}
