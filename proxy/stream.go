package proxy

import (
	"bufio"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
	"go.uber.org/zap"
)

// streamBufferSize is the one copy buffer of a streamed answer: the most
// the LB holds of a body on its way (besides the backend connection's
// read buffer and the client connection's write buffer).
const streamBufferSize = 32 << 10

// stream is an answer whose body is relayed to the client as it arrives
// from the backend, after the handler has returned: a long exchange like
// an upgraded connection. It owns the backend connection (returned to the
// pool once the body was relayed whole, closed otherwise), holds an
// in-flight slot on its backend (pool.Backend.StartStream) and sits in
// its Handler's and its BackendClient's stream sets until it ends.
//
// fasthttp writes it as the response's body stream from the connection's
// goroutine: a body with a length through limitConn.ReadFrom (relay
// writes every piece straight to the client), a chunked one through
// chunkedStream.WriteTo (one chunk per piece, each flushed), so every
// byte reaches the client as soon as it came, and the next read waits
// until the client took it (backpressure: the LB never holds more than
// its buffers). fasthttp closes it (Close) when the response is done,
// written or not; that is where it finishes. close(cause) may come from
// any goroutine (a drain's or the shutdown's cut).
type stream struct {
	body    bodyReader
	release func(reuse bool) // gives the backend connection back (or closes it) and its read buffer
	reuse   bool             // the connection may carry another request after the body

	log      *zap.Logger
	listener string
	poolName string
	backend  *pool.Backend
	owner    *BackendClient
	handler  *Handler
	client   net.Conn      // the client connection
	write    time.Duration // the client's write timeout, per write
	started  time.Time
	buf      *[streamBufferSize]byte

	// Touched only by the goroutine relaying the body:
	sent int64 // body bytes written to the client
	err  error // the failure that ended the body early, for the log

	chunked chunkedStream // the view fasthttp writes chunked

	alog *pendingLog // the access log line to write at the end; nil: none

	cause atomic.Uint32 // closeCause; the first recorded wins
	// mu orders close (a cut) and Close (the finish): a cut after the
	// finish does nothing, so it never closes a connection that has gone
	// back to a pool or on to the client's next request.
	mu       sync.Mutex
	finished bool // guarded by mu
}

// newStream returns the stream of an answer from owner's backend whose
// body of content length n (as fasthttp reports it) is still on conn,
// read through br, bounded by t; release gives conn and br back. It is
// not started yet.
func newStream(owner *BackendClient, conn net.Conn, br *bufio.Reader, n int, reuse bool, t *tryTimes, release func(reuse bool)) *stream {
	s := &stream{owner: owner, release: release, reuse: reuse}
	s.body.init(conn, br, n, t)
	s.chunked.s = s
	return s
}

// start makes s, an answer of backend b in the pool called poolName, a
// running long exchange of h's towards the client connection client: it
// takes a copy buffer and joins the handler's and the backend client's
// stream sets. If the listener's shutdown has already cut its streams, s
// is cut at once (it still finishes in Close). The caller must have
// counted it on b (pool.Backend.StartStream).
func (s *stream) start(h *Handler, poolName string, b *pool.Backend, client net.Conn) {
	s.handler, s.backend, s.poolName = h, b, poolName
	s.log, s.listener = h.log, h.name
	s.client = client
	s.body.client = client
	s.write = time.Duration(h.streamWrite.Load())
	if s.write <= 0 {
		s.write = DefaultWriteTimeout
	}
	s.started = time.Now()
	s.buf = h.streamBuffer()
	s.owner.streams.add(s)
	if !h.streams.add(s) {
		s.close(causeShutdown)
	}
}

// contentLength is the length to announce to the client: the backend's,
// or -1 (chunked) when the body ends with the backend's connection.
func (s *stream) contentLength() int {
	if s.body.framing == framedLength {
		return int(s.body.left)
	}
	return -1
}

// bodyStream is what to hand fasthttp as the response's body stream: s
// itself for a body with a length (limitConn.ReadFrom relays it), its
// chunked view otherwise.
func (s *stream) bodyStream() io.Reader {
	if s.body.framing == framedLength {
		return s
	}
	return &s.chunked
}

// untilClose sends s to ctx's client as a body without a length, ended
// by closing the connection (the framing an HTTP/1.0 client reads): the
// header gets Connection: close and neither Content-Length nor
// Transfer-Encoding, and the connection is taken over from fasthttp
// (hijacked, no response of fasthttp's own) to write it. s stays the
// response's body stream, so that fasthttp finishes it if it never runs
// the takeover.
func (s *stream) untilClose(ctx *fasthttp.RequestCtx) {
	resp := &ctx.Response
	resp.SetBodyStream(s, -1)
	resp.Header.SetContentLength(-2)
	resp.Header.Del("Transfer-Encoding")
	resp.Header.SetConnectionClose()
	head := resp.Header.AppendBytes(nil)
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(c net.Conn) {
		if u, ok := c.(interface{ UnsafeConn() net.Conn }); ok {
			c = u.UnsafeConn()
		}
		if h, ok := c.(interface{ hijacked() }); ok {
			h.hijacked() // a limitConn: its request deadlines end here
		}
		_ = c.SetWriteDeadline(time.Now().Add(s.write))
		if _, err := c.Write(head); err != nil {
			s.failClient(err)
		} else {
			_, _ = s.relay(c, -1)
		}
		_ = s.Close()
	})
}

// Read reads the next piece of the body for fasthttp's own copy loops
// (used when the client connection is not a limitConn); relay is the
// loop the LB's listeners use.
func (s *stream) Read(p []byte) (int, error) {
	n, err := s.body.Read(p)
	if n > 0 {
		s.sent += int64(n)
		_ = s.client.SetWriteDeadline(time.Now().Add(s.write))
	}
	if err != nil && err != io.EOF {
		s.fail(err)
	}
	return n, err
}

// relay copies the body to w, at most limit bytes when limit >= 0,
// writing each piece as it arrives, until the body ends (nil) or a read
// or write fails (that error; s records whose fault it was). Each write
// may take the client's write timeout.
func (s *stream) relay(w io.Writer, limit int64) (int64, error) {
	var total int64
	for limit != 0 {
		p := s.buf[:]
		if limit > 0 && int64(len(p)) > limit {
			p = p[:limit]
		}
		n, err := s.body.Read(p)
		if n > 0 {
			_ = s.client.SetWriteDeadline(time.Now().Add(s.write))
			m, werr := w.Write(p[:n])
			total += int64(m)
			s.sent += int64(m)
			if limit > 0 {
				limit -= int64(m)
			}
			if werr != nil {
				s.failClient(werr)
				return total, werr
			}
		}
		switch {
		case err == io.EOF:
			return total, nil
		case err != nil:
			s.fail(err)
			return total, err
		}
	}
	return total, nil
}

// fail records why reading the body failed: the backend's fault (a
// reset, a malformed or cut body; idle for a silent one), or the
// client's when it was seen gone meanwhile.
func (s *stream) fail(err error) {
	cause := causeBackendFailed
	switch err {
	case errClientGone:
		cause = causeClientGone
	case errBodyIdle, errResponseDeadline:
		cause = causeIdle
	}
	s.record(err, cause)
}

// failClient records a failed write to the client.
func (s *stream) failClient(err error) { s.record(err, causeClientGone) }

// record keeps the first error that ended the body and its cause (unless
// a cut was recorded first).
func (s *stream) record(err error, cause closeCause) {
	if s.err == nil {
		s.err = err
	}
	s.cause.CompareAndSwap(uint32(causeNone), uint32(cause))
}

// close cuts s for cause from any goroutine: the backend and client
// connections are closed, so the relay stops at once and the client sees
// an incomplete answer; Close then finishes it. A stream that has already
// finished is left alone. Safe for concurrent use.
func (s *stream) close(cause closeCause) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finished {
		return
	}
	s.cause.CompareAndSwap(uint32(causeNone), uint32(cause))
	_ = s.body.conn.Close()
	if s.client != nil {
		_ = s.client.Close()
	}
}

// Close finishes s; fasthttp calls it once the response is written (or
// abandoned). The backend connection goes back to the pool if the body
// was relayed whole and may be reused, else it is closed; the slot is
// released with how the body ended; s leaves its sets and is logged.
func (s *stream) Close() error {
	s.mu.Lock()
	if s.finished {
		s.mu.Unlock()
		return nil
	}
	s.finished = true
	s.mu.Unlock()

	if s.body.done {
		s.cause.CompareAndSwap(uint32(causeNone), uint32(causeEnded))
	} else {
		// Not read to its end and nobody said why: fasthttp stopped
		// writing it, because the client failed first.
		s.cause.CompareAndSwap(uint32(causeNone), uint32(causeClientGone))
	}
	cause := closeCause(s.cause.Load())
	s.release(cause == causeEnded && s.reuse)
	if s.handler == nil {
		return nil // never started
	}
	s.owner.streams.remove(s)
	s.handler.streams.remove(s)
	s.handler.bufs.Put(s.buf)
	s.buf = nil
	s.backend.EndStream(cause.streamOutcome())
	s.handler.ends.add(cause)
	s.logEnd(cause)
	if s.alog != nil {
		s.alog.finish(cause, -1, s.sent)
	}
	return nil
}

// streamOutcome is what a stream that ended for c is charged with.
func (c closeCause) streamOutcome() pool.RequestOutcome {
	switch c {
	case causeEnded:
		return pool.RequestOK
	case causeBackendFailed:
		return pool.RequestTransportError
	case causeIdle:
		return pool.RequestTimeout
	}
	return pool.RequestLocal
}

// logEnd writes the line of a stream that ended for cause: debug for a
// whole body or a client that went away, info for a cut by the LB, warn
// for a backend that failed mid-body.
func (s *stream) logEnd(cause closeCause) {
	level, msg := zap.DebugLevel, "stream ended"
	switch cause {
	case causeBackendFailed, causeIdle:
		level, msg = zap.WarnLevel, "stream cut: backend failed mid-body"
	case causeClientGone:
		msg = "stream ended: client gone"
	case causeDeregistration:
		level, msg = zap.InfoLevel, "stream closed: deregistration delay expired"
	case causeShutdown:
		level, msg = zap.InfoLevel, "stream closed: shutdown grace period over"
	}
	ce := s.log.Check(level, msg)
	if ce == nil {
		return
	}
	fields := []zap.Field{
		zap.String("listener", s.listener),
		zap.String("pool", s.poolName),
		zap.String("backend", s.backend.Address()),
		zap.Int64("bytes_sent", s.sent),
		zap.Duration("duration", time.Since(s.started)),
		zap.Stringer("cause", cause),
	}
	if s.err != nil {
		fields = append(fields, zap.Error(s.err))
	}
	ce.Write(fields...)
}

// chunkedStream is the view of a stream fasthttp writes chunked (a body
// without a length): through WriteTo, each piece becomes one chunk that
// fasthttp flushes at once.
type chunkedStream struct{ s *stream }

// Read reads the next piece of the body (fasthttp uses WriteTo).
func (c *chunkedStream) Read(p []byte) (int, error) { return c.s.Read(p) }

// WriteTo relays the whole body to w (fasthttp's chunk writer).
func (c *chunkedStream) WriteTo(w io.Writer) (int64, error) { return c.s.relay(w, -1) }

// SupportsBodyWriteTo tells fasthttp to use WriteTo
// (fasthttp.BodyWriterTo).
func (c *chunkedStream) SupportsBodyWriteTo() bool { return true }

// Close finishes the stream.
func (c *chunkedStream) Close() error { return c.s.Close() }
