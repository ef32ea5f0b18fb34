package healthcheck

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lbtrust/lb/config"
)

// quick is a spec for single probes: a timeout far longer than a loopback
// exchange, even on a loaded machine.
var quick = Spec{Interval: 20 * time.Second, Timeout: 10 * time.Second}

func withStatus(s Spec, ranges ...config.StatusRange) Spec {
	s.ExpectedStatus = ranges
	return s
}

func TestHTTPStatusClassification(t *testing.T) {
	tests := []struct {
		name     string
		code     int
		body     string
		expected []config.StatusRange
		want     Outcome
	}{
		{"200 default", 200, "ok", nil, OutcomeCheckPassed},
		{"204 in 200-299", 204, "", []config.StatusRange{{Min: 200, Max: 299}}, OutcomeCheckPassed},
		{"202 in 200,202", 202, "", []config.StatusRange{{Min: 200, Max: 200}, {Min: 202, Max: 202}}, OutcomeCheckPassed},
		{"201 not in 200,202", 201, "", []config.StatusRange{{Min: 200, Max: 200}, {Min: 202, Max: 202}}, OutcomeStatusMismatch},
		{"204 not default", 204, "", nil, OutcomeStatusMismatch},
		{"500", 500, "boom", nil, OutcomeStatusMismatch},
		{"301 not followed", 301, "", nil, OutcomeStatusMismatch},
		{"503 shutting_down", 503, `{"status":"shutting_down","version":"1.2.3"}`, nil, OutcomeBackendDraining},
		{"503 draining", 503, `{"status": "draining"}`, nil, OutcomeBackendDraining},
		{"503 draining wins over expected 503", 503, `{"status":"draining"}`, []config.StatusRange{{Min: 200, Max: 599}}, OutcomeBackendDraining},
		{"503 plain text", 503, "Service Unavailable", nil, OutcomeStatusMismatch},
		{"503 empty", 503, "", nil, OutcomeStatusMismatch},
		{"503 json other status", 503, `{"status":"degraded"}`, nil, OutcomeStatusMismatch},
		{"503 expected, not draining", 503, `{"status":"degraded"}`, []config.StatusRange{{Min: 503, Max: 503}}, OutcomeCheckPassed},
		{"500 with draining body is no drain signal", 500, `{"status":"draining"}`, nil, OutcomeStatusMismatch},
		{"200 with draining body is no drain signal", 200, `{"status":"draining"}`, nil, OutcomeCheckPassed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := statusServer(t, tt.code, tt.body)
			res := probe(t, withStatus(quick, tt.expected...), hostPort(srv))
			if res.Outcome != tt.want || res.Code != tt.code || res.Err != nil {
				t.Fatalf("got %s code=%d err=%v, want %s code=%d", res.Outcome, res.Code, res.Err, tt.want, tt.code)
			}
			if res.At.IsZero() || res.Latency <= 0 {
				t.Fatalf("At=%v Latency=%v: want both set", res.At, res.Latency)
			}
		})
	}
}

// TestHTTPChunkedDrainingBody: the drain signal is found in a chunked body
// too (no Content-Length).
func TestHTTPChunkedDrainingBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(503)
		_, _ = io.WriteString(w, `{"status":`)
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, `"shutting_down"}`)
	}))
	defer srv.Close()
	res := probe(t, quick, hostPort(srv))
	if res.Outcome != OutcomeBackendDraining || res.Code != 503 {
		t.Fatalf("got %s code=%d err=%v, want backend_draining 503", res.Outcome, res.Code, res.Err)
	}
}

// TestHTTPLargeBody: a body over MaxBodySize is cut, not an error: the
// status still decides, and a cut body is no drain signal.
func TestHTTPLargeBody(t *testing.T) {
	big := strings.Repeat("x", 4*MaxBodySize)
	for _, tt := range []struct {
		code    int
		chunked bool
		want    Outcome
	}{
		{200, false, OutcomeCheckPassed},
		{200, true, OutcomeCheckPassed},
		{503, false, OutcomeStatusMismatch},
		{503, true, OutcomeStatusMismatch},
	} {
		t.Run(strconv.Itoa(tt.code)+map[bool]string{true: " chunked", false: " length"}[tt.chunked], func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if !tt.chunked {
					w.Header().Set("Content-Length", strconv.Itoa(len(big)))
				}
				w.WriteHeader(tt.code)
				_, _ = io.WriteString(w, `{"status":"draining","pad":"`+big)
			}))
			defer srv.Close()
			res := probe(t, quick, hostPort(srv))
			if res.Outcome != tt.want || res.Code != tt.code {
				t.Fatalf("got %s code=%d err=%v, want %s %d", res.Outcome, res.Code, res.Err, tt.want, tt.code)
			}
		})
	}
}

// seenRequest is what the server observed of a probe.
type seenRequest struct {
	method, uri, host, userAgent string
	close                        bool
}

func recordingServer(t *testing.T) (*httptest.Server, func() seenRequest) {
	t.Helper()
	var mu sync.Mutex
	var seen seenRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = seenRequest{r.Method, r.RequestURI, r.Host, r.UserAgent(), r.Close}
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return srv, func() seenRequest {
		mu.Lock()
		defer mu.Unlock()
		return seen
	}
}

func TestHTTPRequestShape(t *testing.T) {
	srv, seen := recordingServer(t)
	addr := hostPort(srv)

	t.Run("defaults", func(t *testing.T) {
		res := probe(t, quick, addr)
		if !res.Passed() {
			t.Fatalf("got %s %v", res.Outcome, res.Err)
		}
		want := seenRequest{"GET", DefaultPath, addr, UserAgent, true}
		if got := seen(); got != want {
			t.Fatalf("server saw %+v, want %+v", got, want)
		}
	})
	t.Run("path with query and host header", func(t *testing.T) {
		s := quick
		s.Path = "/health/deep?full=1&x=%20y"
		s.Host = "api.example.com"
		if res := probe(t, s, addr); !res.Passed() {
			t.Fatalf("got %s %v", res.Outcome, res.Err)
		}
		want := seenRequest{"GET", s.Path, s.Host, UserAgent, true}
		if got := seen(); got != want {
			t.Fatalf("server saw %+v, want %+v", got, want)
		}
	})
}

// TestHTTPPortOverride: the backend's own port is dead, the health port is
// the server's; the Host header names the address actually dialed.
func TestHTTPPortOverride(t *testing.T) {
	srv, seen := recordingServer(t)
	_, port, _ := net.SplitHostPort(hostPort(srv))
	s := quick
	s.Port, _ = strconv.Atoi(port)
	res := probe(t, s, closedAddr(t))
	if !res.Passed() {
		t.Fatalf("got %s %v, want check_passed via the port override", res.Outcome, res.Err)
	}
	if got := seen().host; got != hostPort(srv) {
		t.Fatalf("Host %q, want %q", got, hostPort(srv))
	}
}

func TestHTTPTimeout(t *testing.T) {
	tests := []struct {
		name   string
		handle func(net.Conn)
	}{
		{"never answers", drain},
		{"stalls in the status line", answer("HTTP/1.1 20", false)},
		{"stalls in the headers", answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", false)},
		{"stalls in the body", answer("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", false)},
		{"stalls in a chunk", answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", false)},
		{"stalls in a chunk size", answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1", false)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRawServer(t, tt.handle)
			s := Spec{Interval: time.Second, Timeout: 200 * time.Millisecond}
			res := probe(t, s, srv.addr)
			t.Logf("%s after %v: %v", res.Outcome, res.Latency, res.Err)
			if res.Outcome != OutcomeTimeout || res.Err == nil {
				t.Fatalf("got %s code=%d err=%v, want timeout", res.Outcome, res.Code, res.Err)
			}
			if res.Latency < 150*time.Millisecond || res.Latency > waitLong {
				t.Fatalf("latency %v: want about the 200ms timeout", res.Latency)
			}
		})
	}
}

func TestHTTPConnectionRefused(t *testing.T) {
	res := probe(t, quick, closedAddr(t))
	if res.Outcome != OutcomeConnectionRefused || res.Err == nil || res.Code != 0 {
		t.Fatalf("got %s code=%d err=%v, want connection_refused", res.Outcome, res.Code, res.Err)
	}
}

func TestHTTPConnectionReset(t *testing.T) {
	tests := []struct {
		name   string
		handle func(net.Conn)
	}{
		{"closes at once", func(net.Conn) {}},
		{"resets at once", func(c net.Conn) { _ = c.(*net.TCPConn).SetLinger(0) }},
		{"reads the request then closes", func(c net.Conn) { readRequest(c) }},
		{"reads the request then resets", func(c net.Conn) { readRequest(c); _ = c.(*net.TCPConn).SetLinger(0) }},
		{"closes in the status line", answer("HTTP/1.1 2", true)},
		{"closes in the headers", answer("HTTP/1.1 200 OK\r\nContent-Len", true)},
		{"closes in the body", answer("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", true)},
		{"closes in a chunk", answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", true)},
		{"closes in a chunk size", answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1", true)},
		{"closes before the last chunk", answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", true)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRawServer(t, tt.handle)
			res := probe(t, quick, srv.addr)
			t.Logf("%s: %v", res.Outcome, res.Err)
			if res.Outcome != OutcomeConnectionReset || res.Err == nil {
				t.Fatalf("got %s code=%d err=%v, want connection_reset", res.Outcome, res.Code, res.Err)
			}
		})
	}
}

// TestHTTPCheckError: an answer that is not HTTP is neither a status nor a
// transport failure.
func TestHTTPCheckError(t *testing.T) {
	for _, raw := range []string{
		"SSH-2.0-OpenSSH_9.6\r\n\r\n",
		"HTTP/1.1 abc OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	} {
		t.Run(strings.Fields(raw)[0], func(t *testing.T) {
			srv := newRawServer(t, answer(raw, false))
			res := probe(t, quick, srv.addr)
			if res.Outcome != OutcomeCheckError || res.Err == nil {
				t.Fatalf("got %s code=%d err=%v, want check_error", res.Outcome, res.Code, res.Err)
			}
		})
	}
}

// TestHTTPIdentityBody: an HTTP/1.0-style answer without Content-Length,
// ended by the close, is a complete answer, not a reset.
func TestHTTPIdentityBody(t *testing.T) {
	srv := newRawServer(t, answer("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n{\"status\":\"draining\"}", true))
	res := probe(t, quick, srv.addr)
	if res.Outcome != OutcomeBackendDraining || res.Code != 503 {
		t.Fatalf("got %s code=%d err=%v, want backend_draining 503", res.Outcome, res.Code, res.Err)
	}
}

// TestProbeCanceled: a canceled context abandons the probe at once, and
// the result says so instead of blaming the backend.
func TestProbeCanceled(t *testing.T) {
	srv := newRawServer(t, drain)
	c := newChecker(t, Spec{Interval: time.Minute, Timeout: 30 * time.Second}, srv.addr, nil)

	t.Run("before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		res := c.Probe(ctx)
		if res.Outcome != OutcomeCheckError || !errors.Is(res.Err, ErrCanceled) {
			t.Fatalf("got %s %v, want check_error wrapping ErrCanceled", res.Outcome, res.Err)
		}
	})
	t.Run("during", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		before := srv.accepted.Load()
		done := make(chan Result)
		go func() { done <- c.Probe(ctx) }()
		eventually(t, "the probe to connect", func() bool { return srv.accepted.Load() > before })
		start := time.Now()
		cancel()
		res := <-done
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("Probe took %v to return after cancel; the timeout is 30s", took)
		}
		if res.Outcome != OutcomeCheckError || !errors.Is(res.Err, ErrCanceled) || !errors.Is(res.Err, context.Canceled) {
			t.Fatalf("got %s %v, want check_error wrapping ErrCanceled", res.Outcome, res.Err)
		}
	})
	t.Run("parent deadline is a timeout", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		if res := c.Probe(ctx); res.Outcome != OutcomeTimeout {
			t.Fatalf("got %s %v, want timeout", res.Outcome, res.Err)
		}
	})
}
