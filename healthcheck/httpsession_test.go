package healthcheck

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// sessionProbe runs probes the way a running checker does: one session,
// the run's context, each probe bounded by the spec's Timeout.
type sessionProbe struct {
	c *Checker
	s session
}

func newSessionProbe(t *testing.T, spec Spec, address string) *sessionProbe {
	t.Helper()
	c := newChecker(t, spec, address, nil)
	s := c.prober.(opener).open(&probeBuffers{})
	t.Cleanup(s.close)
	return &sessionProbe{c: c, s: s}
}

func (sp *sessionProbe) probe() Result { return sp.c.probe(context.Background(), sp.s) }

// countingServer is an httptest server answering 200 that counts the
// connections it accepted; idle, when not 0, closes connections idle
// that long (a backend's keep-alive timeout).
func countingServer(t *testing.T, idle time.Duration, header http.Header) (*httptest.Server, *atomic.Int64) {
	srv, opened, _ := countingServerClosed(t, idle, header)
	return srv, opened
}

// countingServerClosed is countingServer that also counts the connections
// it closed.
func countingServerClosed(t *testing.T, idle time.Duration, header http.Header) (*httptest.Server, *atomic.Int64, *atomic.Int64) {
	t.Helper()
	var opened, closed atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Config.IdleTimeout = idle
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			opened.Add(1)
		case http.StateClosed:
			closed.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &opened, &closed
}

// TestSessionKeepsTheConnection: probes share one connection while the
// backend keeps it.
func TestSessionKeepsTheConnection(t *testing.T) {
	srv, opened := countingServer(t, 0, nil)
	sp := newSessionProbe(t, Spec{Timeout: 5 * time.Second}, hostPort(srv))
	for i := range 5 {
		if res := sp.probe(); !res.Passed() {
			t.Fatalf("probe %d: %+v", i, res)
		}
	}
	if n := opened.Load(); n != 1 {
		t.Errorf("%d connections for 5 probes, want 1", n)
	}
}

// TestSessionRedialsAConnectionClosedWhileIdle: a backend that closes idle
// connections (a 50ms keep-alive timeout) never fails a probe: the probe
// that finds its connection closed asks again on a fresh one.
func TestSessionRedialsAConnectionClosedWhileIdle(t *testing.T) {
	srv, opened, closed := countingServerClosed(t, 50*time.Millisecond, nil)
	sp := newSessionProbe(t, Spec{Timeout: 5 * time.Second}, hostPort(srv))
	for i := range 4 {
		if res := sp.probe(); !res.Passed() {
			t.Fatalf("probe %d: %+v: a closed idle connection says nothing about the backend", i, res)
		}
		eventually(t, "the backend to close the idle connection", func() bool {
			return closed.Load() == opened.Load()
		})
	}
	if n := opened.Load(); n != 4 {
		t.Errorf("%d connections for 4 probes each after the backend's idle timeout, want 4", n)
	}
}

// TestSessionSeesAKilledBackend: once the backend is gone (listener and
// connections closed, as a killed process's kernel does), the next probe
// over the kept connection reports connection_refused, the same as a
// fresh probe would: the dead connection is not the verdict, the redial is.
func TestSessionSeesAKilledBackend(t *testing.T) {
	srv, _ := countingServer(t, 0, nil)
	sp := newSessionProbe(t, Spec{Timeout: 5 * time.Second}, hostPort(srv))
	if res := sp.probe(); !res.Passed() {
		t.Fatalf("first probe: %+v", res)
	}
	srv.Close()
	if res := sp.probe(); res.Outcome != OutcomeConnectionRefused {
		t.Fatalf("after the backend died: %s (%v), want connection_refused", res.Outcome, res.Err)
	}
}

// TestSessionHonoursConnectionClose: an answer that asks to close is
// followed by a fresh connection, and every probe passes.
func TestSessionHonoursConnectionClose(t *testing.T) {
	srv, opened := countingServer(t, 0, http.Header{"Connection": {"close"}})
	sp := newSessionProbe(t, Spec{Timeout: 5 * time.Second}, hostPort(srv))
	for i := range 3 {
		if res := sp.probe(); !res.Passed() {
			t.Fatalf("probe %d: %+v", i, res)
		}
	}
	if n := opened.Load(); n != 3 {
		t.Errorf("%d connections for 3 probes answered with Connection: close, want 3", n)
	}
}

// TestSessionTimeoutIsNotRetried: a backend that answered once and then
// hangs on the kept connection is a timeout after one Timeout, not two.
func TestSessionTimeoutIsNotRetried(t *testing.T) {
	srv := newRawServer(t, func(conn net.Conn) {
		readRequest(conn)
		_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		drain(conn) // the second request is never answered
	})
	const timeout = 300 * time.Millisecond
	sp := newSessionProbe(t, Spec{Interval: time.Second, Timeout: timeout}, srv.addr)
	if res := sp.probe(); !res.Passed() {
		t.Fatalf("first probe: %+v", res)
	}
	res := sp.probe()
	if res.Outcome != OutcomeTimeout {
		t.Fatalf("hung backend: %s (%v), want timeout", res.Outcome, res.Err)
	}
	if res.Latency >= 2*timeout {
		t.Errorf("timeout reported after %v: the timed-out probe was retried", res.Latency)
	}
	if n := srv.accepted.Load(); n != 1 {
		t.Errorf("%d connections: a timeout must not redial within the probe", n)
	}
}

// TestFreshConnectionPerProbe: with FreshConnection a running checker opens
// a connection for every probe and closes it, as HAProxy does.
func TestFreshConnectionPerProbe(t *testing.T) {
	srv, opened, closed := countingServerClosed(t, 0, nil)
	rec := &recorder{}
	c := newChecker(t, Spec{Interval: 100 * time.Millisecond, Timeout: 90 * time.Millisecond, FreshConnection: true}, hostPort(srv), rec)
	stop := run(t, c)
	rec.waitFor(t, 3)
	stop()
	n := int64(rec.len())
	if o := opened.Load(); o != n {
		t.Errorf("%d connections for %d probes, want one each", o, n)
	}
	eventually(t, "every probe connection to be closed", func() bool { return closed.Load() == opened.Load() })
}
