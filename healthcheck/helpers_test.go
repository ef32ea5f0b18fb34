package healthcheck

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitLong bounds every poll in these tests: generous, so a loaded 2-core
// machine running -race never fails them by being slow.
const waitLong = 15 * time.Second

// eventually polls cond every few milliseconds until it holds or waitLong
// passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", waitLong, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recorder is a Reporter that keeps every result, safe for concurrent use.
type recorder struct {
	mu      sync.Mutex
	results []Result
}

func (r *recorder) ObserveCheck(res Result) {
	r.mu.Lock()
	r.results = append(r.results, res)
	r.mu.Unlock()
}

func (r *recorder) snapshot() []Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Result(nil), r.results...)
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.results)
}

// waitFor polls until at least n results arrived and returns them.
func (r *recorder) waitFor(t *testing.T, n int) []Result {
	t.Helper()
	eventually(t, "probe results", func() bool { return r.len() >= n })
	return r.snapshot()
}

// run starts c.Run in a goroutine and returns a stop that cancels it and
// fails the test unless Run returns within waitLong; it reports how long
// Run took to return after the cancel.
func run(t *testing.T, c *Checker) (stop func() time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx)
	}()
	var once sync.Once
	var took time.Duration
	stop = func() time.Duration {
		once.Do(func() {
			start := time.Now()
			cancel()
			select {
			case <-done:
				took = time.Since(start)
			case <-time.After(waitLong):
				t.Fatalf("Run did not return within %s of cancel", waitLong)
			}
		})
		return took
	}
	t.Cleanup(func() { stop() })
	return stop
}

// newChecker builds a checker or fails the test.
func newChecker(t *testing.T, spec Spec, address string, rep Reporter) *Checker {
	t.Helper()
	if rep == nil {
		rep = &recorder{}
	}
	c, err := New(spec, address, rep, nil)
	if err != nil {
		t.Fatalf("New(%+v, %q): %v", spec, address, err)
	}
	return c
}

// probe runs one probe with a background context.
func probe(t *testing.T, spec Spec, address string) Result {
	t.Helper()
	return newChecker(t, spec, address, nil).Probe(context.Background())
}

// rawServer is a TCP server on 127.0.0.1 whose connections run a scripted
// handler: answers no HTTP server would give (silence, resets, truncation).
type rawServer struct {
	addr     string
	accepted atomic.Int64
	wg       sync.WaitGroup
	mu       sync.Mutex
	closed   bool
	conns    []net.Conn
}

// newRawServer listens on 127.0.0.1:0 and runs handle for each connection
// in its own goroutine, closing the connection when handle returns. Test
// cleanup closes the listener and every connection and waits for all
// goroutines.
func newRawServer(t *testing.T, handle func(net.Conn)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{addr: ln.Addr().String()}
	s.wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			if s.closed {
				s.mu.Unlock()
				conn.Close()
				return
			}
			s.conns = append(s.conns, conn)
			s.mu.Unlock()
			s.accepted.Add(1)
			s.wg.Go(func() {
				defer conn.Close()
				handle(conn)
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		s.closed = true
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

// readRequest consumes a request's header block (probes send no body), so
// that closing the connection afterwards sends a FIN, not an RST for unread
// data.
func readRequest(conn net.Conn) *bufio.Reader {
	br := bufio.NewReader(conn)
	for {
		line, err := br.ReadString('\n')
		if err != nil || line == "\r\n" {
			return br
		}
	}
}

// drain reads until the peer closes: a handler that must not close first.
func drain(conn net.Conn) { _, _ = io.Copy(io.Discard, conn) }

// answer returns a handler that reads the request, writes raw, and then
// either waits for the probe to close (linger) or closes.
func answer(raw string, thenClose bool) func(net.Conn) {
	return func(conn net.Conn) {
		readRequest(conn)
		_, _ = io.WriteString(conn, raw)
		if !thenClose {
			drain(conn)
		}
	}
}

// closedAddr returns a loopback address nothing listens on: a port that was
// bound and then closed.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// statusServer is an httptest server answering every request with code and
// body (and Content-Type: application/json when the body looks like JSON).
func statusServer(t *testing.T, code int, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if strings.HasPrefix(body, "{") {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// hostPort returns the host:port an httptest server listens on.
func hostPort(srv *httptest.Server) string { return srv.Listener.Addr().String() }
