package proxy

import (
	"bufio"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// emfileListener returns EMFILE from Accept while fail is set, as a
// process out of file descriptors does (the pending connection stays in
// the backlog), and counts the failures. With alternate, only every
// other call fails: the one right after a failure stands for an accept
// with the reserve descriptor just given up.
type emfileListener struct {
	net.Listener
	fail, alternate atomic.Bool
	fails, calls    atomic.Int64
}

func (l *emfileListener) Accept() (net.Conn, error) {
	n := l.calls.Add(1)
	if l.fail.Load() && (!l.alternate.Load() || n%2 == 1) {
		l.fails.Add(1)
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

// get sends one GET on a fresh connection to addr and returns the answer.
func getAt(addr string) (*fasthttp.Response, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: lb\r\n\r\n"); err != nil {
		return nil, err
	}
	resp := &fasthttp.Response{}
	return resp, resp.Read(bufio.NewReader(c))
}

// TestOutOfFileDescriptors: while Accept fails with EMFILE the server
// neither stops nor spins; pending clients are refused with a 503 (the
// reserve descriptor is given up for them); once descriptors are back,
// clients are served again. ServerOptions.OutOfFiles is called meanwhile
// (the LB closes idle backend connections with it).
func TestOutOfFileDescriptors(t *testing.T) {
	var n atomic.Int64
	up := &Upstream{Pool: newTestPool(t, "web", okBackend(t, "ok", &n))}
	h := NewHandler("public", Routes{Default: up}, nil)
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &emfileListener{Listener: inner}
	addr := inner.Addr().String()
	var relieved atomic.Int64
	s := NewServer(h, ServerOptions{OutOfFiles: func() { relieved.Add(1) }}, nil)
	s.MaxIdleWorkerDuration = testWorkerIdle
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() {
		_ = s.Shutdown()
		_ = ln.Close() // Serve may not have registered it yet
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})

	if resp, err := getAt(addr); err != nil || resp.StatusCode() != 200 {
		t.Fatalf("before: %v", err)
	}
	ln.calls.Store(0)
	ln.alternate.Store(true)
	ln.fail.Store(true)
	// The accept loop is parked in Accept: the next client is served;
	// the one after meets EMFILE, and the reserve descriptor lets the
	// LB accept and refuse it rather than leave it in the backlog.
	if resp, err := getAt(addr); err != nil || resp.StatusCode() != 200 {
		t.Fatalf("client already being accepted: %v", err)
	}
	ln.calls.Store(1)
	resp, err := getAt(addr)
	if err != nil {
		t.Fatalf("a client while out of descriptors got no answer: %v", err)
	}
	if resp.StatusCode() != 503 || !strings.Contains(string(resp.Body()), "too many connections") {
		t.Errorf("while out of descriptors: %d %q, want 503", resp.StatusCode(), resp.Body())
	}
	if got := h.Rejections().Count(RejectTooManyConnections); got < 1 {
		t.Errorf("too_many_connections counted %d, want at least 1", got)
	}
	if relieved.Load() < 1 {
		t.Error("OutOfFiles was not called while accepting failed with EMFILE")
	}
	ln.fail.Store(false)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := getAt(addr)
		if err == nil && resp.StatusCode() == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not served again once descriptors were back: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n.Load() < 2 {
		t.Errorf("backend saw %d requests, want the served ones", n.Load())
	}
}

// TestGuardListenerKeepsAccepting: a plain fasthttp.Server behind
// GuardListener survives EMFILE (unguarded, Serve would return).
func TestGuardListenerKeepsAccepting(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &emfileListener{Listener: inner}
	ln.fail.Store(true)
	s := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("ok") }, MaxIdleWorkerDuration: testWorkerIdle}
	served := make(chan error, 1)
	go func() { served <- s.Serve(GuardListener(ln, "admin", nil)) }()
	t.Cleanup(func() {
		_ = s.Shutdown()
		_ = ln.Close() // Serve may not have registered it yet
		<-served
	})
	deadline := time.Now().Add(20 * time.Second)
	for ln.fails.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatal("Accept was not retried")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned while out of descriptors: %v", err)
	default:
	}
	// Backing off (5ms doubling to 1s), not spinning: over 500ms a
	// handful of tries (two Accept calls each), never hundreds.
	before := ln.fails.Load()
	time.Sleep(500 * time.Millisecond)
	if tries := ln.fails.Load() - before; tries > 40 {
		t.Errorf("%d failed accepts in 500ms while out of descriptors: spinning", tries)
	}
	ln.fail.Store(false)
	for {
		resp, err := getAt(inner.Addr().String())
		if err == nil && resp.StatusCode() == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not served once descriptors were back: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHoldsHeaderEnd: a read between requests holds a whole header when
// an empty line follows a non-empty one, whatever the line endings; empty
// lines before the request line do not count.
func TestHoldsHeaderEnd(t *testing.T) {
	for in, want := range map[string]bool{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n":        true,
		"GET / HTTP/1.1\nHost: a\n\n":              true,
		"GET / HTTP/1.1\r\nHost: a\n\r\nbody":      true,
		"GET / HTTP/1.1\r\nHost: a\r\n":            false,
		"GET / HTTP/1.1\r\nHost: a\r\n\r":          false,
		"G":                                        false,
		"\r\n\r\n":                                 false,
		"\r\n\r\nGET / HTTP/1.1\r\n":               false,
		"\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n":  true,
		"POST / HTTP/1.1\r\nContent-Length: 1\r\n": false,
	} {
		if got := holdsHeaderEnd([]byte(in)); got != want {
			t.Errorf("%q: %v, want %v", in, got, want)
		}
	}
}
