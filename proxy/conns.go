package proxy

import (
	"errors"
	"net"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// errConnCut is the error of a request sent on a connection that
// CloseAll (or a previous Close) had closed: nothing was sent.
var errConnCut = errors.New("proxy: backend connection was closed before the request was sent")

// trackedConn is a connection to a backend that removes itself from its
// BackendClient's set when it is closed, by fasthttp (idle timeout, error,
// Connection: close, CloseIdle) or by CloseAll, whichever comes first.
// Writes go straight to the embedded net.Conn; reads too, after the
// header of each answer passed framing (see framingScan).
type trackedConn struct {
	net.Conn
	owner  *BackendClient
	closed atomic.Bool
	// framing is touched only by the goroutine carrying the connection's
	// current exchange.
	framing framingScan
	// waiting is the rescue state of the try on the connection
	// (rescue.go: waitNone, waitArmed, waitWaking, waitWoken); sweep is
	// the sweep that woke it, written by the waker before it stores
	// waitWoken and read by the try after it loads it.
	waiting atomic.Uint32
	sweep   *rescueSweep
	// raw reads and writes the connection (raw system calls when it is
	// plain TCP: rawsock.go).
	raw *rawSock
}

// Write sends request bytes and starts watching for the answer's header.
func (t *trackedConn) Write(p []byte) (int, error) {
	t.framing.start()
	return t.raw.write(p)
}

// Read reads answer bytes; it fails with errResponseFraming, instead of
// handing them on, once an answer's header carries both Content-Length
// and Transfer-Encoding.
func (t *trackedConn) Read(p []byte) (int, error) {
	n, err := t.raw.read(p)
	if ferr := t.framing.scan(p[:n]); ferr != nil {
		return 0, ferr
	}
	return n, err
}

// Close closes the connection and forgets it. Only the first call does
// the bookkeeping; every call closes the underlying connection (a second
// Close returns its error, which fasthttp ignores).
func (t *trackedConn) Close() error {
	t.detach()
	return t.Conn.Close()
}

// SetWriteDeadline returns errConnCut, and sends nothing, on a connection
// CloseAll closed, else sets the deadline. fasthttp calls it before it
// writes each request, so a cut connection that went back to fasthttp's
// idle pool (a request that completed during CloseAll) fails a later
// request before anything reaches the backend, and the Handler retries it
// elsewhere. One atomic load per request.
func (t *trackedConn) SetWriteDeadline(d time.Time) error {
	if t.closed.Load() {
		return errConnCut
	}
	return t.Conn.SetWriteDeadline(d)
}

// SetDeadline is SetWriteDeadline for both directions at once (the
// round trip sets one deadline for writing a request and reading its
// header's answer): errConnCut on a connection CloseAll closed.
func (t *trackedConn) SetDeadline(d time.Time) error {
	if t.closed.Load() {
		return errConnCut
	}
	return t.Conn.SetDeadline(d)
}

// detach removes t from its owner's set and reports whether this call did
// it (false when t was already closed).
func (t *trackedConn) detach() bool {
	if !t.closed.CompareAndSwap(false, true) {
		return false
	}
	t.owner.mu.Lock()
	delete(t.owner.conns, t)
	t.owner.mu.Unlock()
	return true
}

// track wraps dial so that every connection it returns is in c's set
// until it is closed. The wrapper runs once per dial, never per request.
func (c *BackendClient) track(dial fasthttp.DialFuncWithTimeout) fasthttp.DialFuncWithTimeout {
	return func(addr string, timeout time.Duration) (net.Conn, error) {
		conn, err := dial(addr, timeout)
		if err != nil {
			return nil, err
		}
		t := &trackedConn{Conn: conn, owner: c, raw: newRawSock(conn)}
		c.mu.Lock()
		if c.conns == nil {
			c.conns = make(map[*trackedConn]struct{})
		}
		c.conns[t] = struct{}{}
		c.mu.Unlock()
		return t, nil
	}
}

// CloseAll closes every open connection to the backend, idle or carrying
// a request, and returns how many there were: the connections open when it
// was called, all of them closed when it returns. A request in flight on
// one of them fails at once: the Handler answers it as a backend error
// (502) or, when the upstream's RetryPolicy allows (by default for an
// idempotent request cut before a complete answer), retries it on another
// backend. For the number of requests cut, read
// pool.Backend.InFlight just before (a connection carries one request at
// a time, so after CloseIdle the two agree but for races).
//
// Upgraded connections (WebSockets) to the backend are closed too, and
// counted: each is logged at info level as "websocket closed:
// deregistration delay expired" with its pool, backend and duration.
// Streamed answers are cut (their clients see an incomplete answer) and
// logged as "stream closed: deregistration delay expired" with the bytes
// they had relayed; their connections are among those counted.
//
// Call it when a draining backend's deregistration delay runs out, or when
// it is removed. It does not stop the client: a later request dials a new
// connection, and a connection whose dial was under way during the call
// is not closed (the pool sends no new request to a draining backend, so
// none is expected). Idle connections leave fasthttp's pool, so a backend
// that comes back is not sent requests on dead connections. Safe for
// concurrent use.
func (c *BackendClient) CloseAll() int {
	// Streams first, so that each records why it was cut before its
	// connection fails under it.
	streams := c.streams.closeAll(causeDeregistration, false)
	c.mu.Lock()
	open := make([]*trackedConn, 0, len(c.conns))
	for t := range c.conns {
		open = append(open, t)
	}
	c.mu.Unlock()

	// Idle ones through fasthttp, so they leave its pool and its count.
	c.CloseIdle()
	// The rest carry a request: fasthttp sees the error and drops them.
	for _, t := range open {
		if t.detach() {
			_ = t.Conn.Close()
		}
	}
	// A request that completed meanwhile may have put its (now closed)
	// connection back in the pool. A pooled connection that slips past
	// this too fails with errConnCut before anything is sent.
	c.CloseIdle()
	return len(open) + streams + c.tunnels.closeAll(causeDeregistration, false)
}

// OpenConns returns the number of connections to the backend that are
// open now, idle or carrying a request. Safe for concurrent use.
func (c *BackendClient) OpenConns() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.conns)
}
