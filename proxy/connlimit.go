package proxy

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// tooManyConnsAnswer is written to a connection refused for
// max_connections or for lack of file descriptors, before it is closed.
const tooManyConnsAnswer = "HTTP/1.1 503 Service Unavailable\r\n" +
	"Content-Type: application/json\r\nContent-Length: 32\r\nConnection: close\r\n\r\n" +
	`{"error":"too many connections"}`

// refuseWriteTimeout bounds writing tooManyConnsAnswer. A fresh
// connection's send buffer is empty, so it never waits in practice.
const refuseWriteTimeout = 100 * time.Millisecond

// outOfFilesEvery is how often at most ServerOptions.OutOfFiles runs
// while accepting keeps failing for lack of file descriptors.
const outOfFilesEvery = 100 * time.Millisecond

// Accept backoff after running out of file descriptors (as net/http).
const (
	minAcceptBackoff = 5 * time.Millisecond
	maxAcceptBackoff = time.Second
)

// limitListener wraps a listener: it refuses connections beyond
// MaxConnections, keeps accepting (with a backoff) when the process runs
// out of file descriptors instead of failing, and wraps every connection
// it hands out in a limitConn. Accept is called from one goroutine (the
// server's accept loop); Close from any.
type limitListener struct {
	net.Listener
	l *limits

	done      chan struct{}
	closeOnce sync.Once

	mu      sync.Mutex // guards reserve
	reserve *os.File   // a spare descriptor given up to refuse a connection on EMFILE

	lastWarn   time.Time // accept goroutine only
	lastRelief time.Time // last ServerOptions.OutOfFiles call; accept goroutine only

	// plain hands connections out as accepted, with no cap (GuardListener).
	plain bool
}

// GuardListener wraps ln so that running out of file descriptors does
// not stop a server's accept loop (fasthttp takes EMFILE for a permanent
// error and returns from Serve): the pending connection is answered 503
// and closed when a reserve descriptor allows, else Accept retries with a
// backoff (5ms doubling to 1s); either way it logs a warning, at most once
// a second. A reserve lost to another goroutine is taken back from the
// next connection accepted (which is refused) when no other is free.
// Connections are otherwise handed out as accepted, with no cap. name
// labels the log lines. For listeners served by a *Server, which does
// this itself; use it for the others (admin).
func GuardListener(ln net.Listener, name string, log *zap.Logger) net.Listener {
	if log == nil {
		log = zap.NewNop()
	}
	ll := newLimitListener(ln, &limits{rejects: &Rejections{}, log: log, name: name})
	ll.plain = true
	return ll
}

func newLimitListener(ln net.Listener, l *limits) *limitListener {
	ll := &limitListener{Listener: ln, l: l, done: make(chan struct{})}
	ll.reserve, _ = os.Open(os.DevNull) // best effort; nil just means no reserve
	return ll
}

// Accept returns the next connection within the limits.
func (ll *limitListener) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		c, err := ll.Listener.Accept()
		if err != nil {
			if !outOfFiles(err) {
				ll.dropReserve()
				return nil, err
			}
			ll.relieve()
			if ll.refuseWithReserve() {
				delay = 0
				ll.warn(err, 0)
				continue
			}
			delay = min(max(2*delay, minAcceptBackoff), maxAcceptBackoff)
			ll.warn(err, delay)
			select {
			case <-ll.done:
				return nil, net.ErrClosed
			case <-time.After(delay):
			}
			continue
		}
		delay = 0
		if !ll.ensureReserve() {
			// Out of descriptors, the reserve lost (another goroutine
			// took the one it freed): c holds the only free one. Refuse
			// c and keep its descriptor as the reserve, so the next
			// clients are answered rather than left in the backlog.
			ll.l.reject(RejectTooManyConnections, c.RemoteAddr())
			refuseConn(c)
			ll.takeReserve()
			continue
		}
		if ll.plain {
			return c, nil
		}
		if ll.l.open.Add(1) > int64(ll.l.o.MaxConnections) {
			ll.l.open.Add(-1)
			ll.l.reject(RejectTooManyConnections, c.RemoteAddr())
			refuseConn(c)
			continue
		}
		lc := newLimitConn(c, ll.l)
		if tc, ok := c.(*tls.Conn); ok {
			return &limitTLSConn{limitConn: lc, tc: tc}, nil
		}
		return lc, nil
	}
}

// refuseWithReserve frees the reserve descriptor to accept one pending
// connection and refuse it (so its client gets an answer instead of
// waiting in the backlog), then takes the descriptor back. It reports
// whether a connection was refused.
func (ll *limitListener) refuseWithReserve() bool {
	ll.mu.Lock()
	r := ll.reserve
	ll.reserve = nil
	ll.mu.Unlock()
	if r == nil {
		ll.takeReserve()
		return false
	}
	r.Close()
	// Not under mu: Accept may wait (the client may have gone), and
	// Close must still be able to end it.
	c, err := ll.Listener.Accept()
	if err == nil {
		ll.l.reject(RejectTooManyConnections, c.RemoteAddr())
		refuseConn(c)
	}
	ll.takeReserve()
	return err == nil
}

// takeReserve opens the reserve descriptor again if it is missing and
// the listener is open.
func (ll *limitListener) takeReserve() {
	ll.mu.Lock()
	defer ll.mu.Unlock()
	select {
	case <-ll.done:
		return
	default:
	}
	if ll.reserve == nil {
		ll.reserve, _ = os.Open(os.DevNull)
	}
}

// ensureReserve opens the reserve descriptor again if it is missing. It
// reports false only when it is missing because the process is out of
// descriptors (not when /dev/null cannot be opened for another reason, or
// the listener is closed).
func (ll *limitListener) ensureReserve() bool {
	ll.mu.Lock()
	defer ll.mu.Unlock()
	if ll.reserve != nil {
		return true
	}
	select {
	case <-ll.done:
		return true
	default:
	}
	r, err := os.Open(os.DevNull)
	if err != nil {
		return !outOfFiles(err)
	}
	ll.reserve = r
	return true
}

// relieve calls ServerOptions.OutOfFiles, at most every outOfFilesEvery.
func (ll *limitListener) relieve() {
	if f := ll.l.o.OutOfFiles; f != nil && time.Since(ll.lastRelief) >= outOfFilesEvery {
		ll.lastRelief = time.Now()
		f()
	}
}

// warn logs running out of file descriptors, at most once a second.
func (ll *limitListener) warn(err error, delay time.Duration) {
	if time.Since(ll.lastWarn) < time.Second {
		return
	}
	ll.lastWarn = time.Now()
	ll.l.log.Warn("accept: out of file descriptors; refusing new connections and retrying",
		zap.String("listener", ll.l.name), zap.Error(err), zap.Duration("retry_in", delay),
		zap.Int64("open_connections", ll.l.open.Load()))
}

func (ll *limitListener) dropReserve() {
	ll.mu.Lock()
	defer ll.mu.Unlock()
	if ll.reserve != nil {
		ll.reserve.Close()
		ll.reserve = nil
	}
}

// Close closes the listener, ending a pending Accept (and its backoff).
func (ll *limitListener) Close() error {
	ll.closeOnce.Do(func() { close(ll.done) })
	err := ll.Listener.Close()
	ll.dropReserve()
	return err
}

// outOfFiles reports whether an Accept error means the process or the
// system ran out of file descriptors (or socket buffers): temporary,
// worth a retry, never a reason to stop serving.
func outOfFiles(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}

// refuseConn writes the 503 answer (best effort) and closes c. Callers
// count the refusal first, so a client that has read the answer finds it
// counted in /status.
func refuseConn(c net.Conn) {
	_ = c.SetWriteDeadline(time.Now().Add(refuseWriteTimeout))
	_, _ = c.Write([]byte(tooManyConnsAnswer))
	_ = c.Close()
}

// limitConn is a client connection of a limitListener. It owns the
// request read deadlines (fasthttp's own ReadTimeout is off): the header
// must arrive within ReadHeaderTimeout of the request's first byte (of
// the accept, for a connection's first request); the body deadline
// fasthttp sets after the header of a request with a body
// (limits.headerReceived) marks the body phase and is capped at the
// request's start plus ReadTimeout (a request without a body keeps the
// header's deadline until its answer is written). It
// releases its slot when closed and counts a write timeout (a client
// that does not read its answer), after which it resets the connection
// rather than leave the unsent answer in the kernel. fasthttp uses it
// from the connection's goroutine; Close may also come from Shutdown.
type limitConn struct {
	net.Conn
	l *limits
	// reqStart is when the current request's first byte arrived (unix
	// nanoseconds), 0 between requests, reqStartWhole for a request
	// whose header came whole with its first byte.
	reqStart atomic.Int64
	// headerIn: the bytes read between requests held a whole request
	// header (connection goroutine only; requestStarted takes it).
	headerIn bool
	// inBody is true while the current request's body is read (from the
	// body deadline on).
	inBody        atomic.Bool
	served        int // requests started; connection goroutine only
	closed        atomic.Bool
	writeTimedOut atomic.Bool
	idleTimedOut  atomic.Bool
	// raw reads and writes the connection (raw system calls when it is
	// plain TCP: rawsock.go).
	raw *rawSock
}

func newLimitConn(c net.Conn, l *limits) *limitConn {
	lc := &limitConn{Conn: c, l: l, raw: newRawSock(c)}
	_ = c.SetReadDeadline(time.Now().Add(l.o.ReadHeaderTimeout))
	return lc
}

// reqStartWhole is reqStart for a request whose whole header arrived
// with its first byte: the header needs no deadline, and the body's needs
// no cap (the header took no time, and BodyReadTimeout is at most
// ReadTimeout), so when it began does not matter.
const reqStartWhole = 1

// requestStarted marks the first byte of a request: its header is due
// within ReadHeaderTimeout (for the first request, of the accept, whose
// deadline is already set). A header that came whole with that byte
// (headerIn) is read from fasthttp's buffer without waiting: it gets no
// deadline, which saves a reading of the clock and a timer on most
// requests.
func (c *limitConn) requestStarted() {
	c.inBody.Store(false)
	c.served++
	if c.headerIn {
		c.headerIn = false
		c.reqStart.Store(reqStartWhole)
		return
	}
	now := time.Now()
	c.reqStart.Store(now.UnixNano())
	if c.served > 1 {
		_ = c.Conn.SetReadDeadline(now.Add(c.l.o.ReadHeaderTimeout))
	}
}

// holdsHeaderEnd reports whether p, the bytes read while no request was
// under way, holds the end of a request's header (an empty line after a
// non-empty one; empty lines before a request line do not count).
func holdsHeaderEnd(p []byte) bool {
	for len(p) > 0 && (p[0] == '\r' || p[0] == '\n') {
		p = p[1:]
	}
	return bytes.Contains(p, []byte("\n\r\n")) || bytes.Contains(p, []byte("\n\n"))
}

// requestEnded marks the answer written: the connection is idle.
func (c *limitConn) requestEnded() {
	c.reqStart.Store(0)
	c.inBody.Store(false)
}

// SetReadDeadline is fasthttp's: between requests (the idle timeout) it
// applies as is. During a request a zero t (fasthttp clearing the idle
// deadline) is ignored, the header deadline stays; a non-zero one is the
// body deadline, capped at the request's start plus ReadTimeout.
func (c *limitConn) SetReadDeadline(t time.Time) error {
	s := c.reqStart.Load()
	if s == 0 {
		return c.Conn.SetReadDeadline(t)
	}
	if t.IsZero() {
		return nil
	}
	c.inBody.Store(true)
	if limit := time.Unix(0, s).Add(c.l.o.ReadTimeout); s != reqStartWhole && t.After(limit) {
		t = limit
	}
	return c.Conn.SetReadDeadline(t)
}

// setBodyDeadline sets the read deadline of a request body streamed to a
// backend: t as given, not capped by ReadTimeout (a streamed body is
// bounded per read, by BodyReadTimeout, however long it is).
func (c *limitConn) setBodyDeadline(t time.Time) {
	c.inBody.Store(true)
	_ = c.Conn.SetReadDeadline(t)
}

// Read reads from the connection. A read that times out between
// requests (no request under way, after at least one) is the keep-alive
// idle timeout closing the connection, and is counted as such; one during
// a request is fasthttp's header or body timeout, counted where it answers
// 408.
func (c *limitConn) Read(b []byte) (int, error) {
	n, err := c.raw.read(b)
	if n > 0 && c.reqStart.Load() == 0 && !c.idleTimedOut.Load() {
		// Between requests (not in a tunnel, which sets idleTimedOut):
		// does the next request's header come whole?
		c.headerIn = holdsHeaderEnd(b[:n])
	}
	if err != nil && c.reqStart.Load() == 0 && c.served > 0 {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && c.idleTimedOut.CompareAndSwap(false, true) {
			c.l.reject(RejectIdleTimeout, c.RemoteAddr())
		}
	}
	return n, err
}

// Write writes b; on the connection's first write timeout it counts it
// and makes Close reset the connection.
func (c *limitConn) Write(b []byte) (int, error) {
	n, err := c.raw.write(b)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && c.writeTimedOut.CompareAndSwap(false, true) {
			if tc, ok := c.Conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			c.l.reject(RejectWriteTimeout, c.RemoteAddr())
		}
	}
	return n, err
}

// ReadFrom is where fasthttp's writer hands over the body of a streamed
// answer with a length, once the header is flushed (bufio.Writer.ReadFrom
// with an empty buffer): the stream relays it piece by piece, each piece
// written at once, so nothing waits for a buffer to fill. Any other
// reader is copied as io.Copy would.
func (c *limitConn) ReadFrom(r io.Reader) (int64, error) {
	if lr, ok := r.(*io.LimitedReader); ok {
		if s, ok := lr.R.(*stream); ok {
			n, err := s.relay(c, lr.N)
			lr.N -= n
			return n, err
		}
	}
	return io.Copy(struct{ io.Writer }{c}, r)
}

// hijacked hands the connection over to an upgraded tunnel: from then on
// the request deadlines no longer apply, and the tunnel's own (its idle
// timeout) are set as given. Called by the tunnel before it sets any.
func (c *limitConn) hijacked() {
	c.requestEnded()
	// The tunnel's reads time out and go on while the other direction is
	// busy; its idle closes are logged by the tunnel, not counted here.
	c.idleTimedOut.Store(true)
}

// CloseWrite half-closes the wrapped connection (a tunnel passing on a
// client's FIN); errors.ErrUnsupported when it cannot.
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// limitTLSConn is a limitConn over a TLS connection: it also exposes the
// TLS state, so fasthttp's RequestCtx.IsTLS (X-Forwarded-Proto: https) and
// TLSConnectionState see through the wrapper.
type limitTLSConn struct {
	*limitConn
	tc *tls.Conn
}

// Handshake runs the TLS handshake if it has not run yet.
func (c *limitTLSConn) Handshake() error { return c.tc.Handshake() }

// ConnectionState is the TLS state of the connection.
func (c *limitTLSConn) ConnectionState() tls.ConnectionState { return c.tc.ConnectionState() }

// asLimitConn returns the limitConn behind c, if c is one of ours.
func asLimitConn(c net.Conn) (*limitConn, bool) {
	switch lc := c.(type) {
	case *limitConn:
		return lc, true
	case *limitTLSConn:
		return lc.limitConn, true
	}
	return nil, false
}

// Close closes the connection and releases its slot (once).
func (c *limitConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.l.open.Add(-1)
	}
	return c.Conn.Close()
}
