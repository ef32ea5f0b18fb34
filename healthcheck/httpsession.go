package healthcheck

import (
	"context"
	"net"
	"sync"
	"time"
)

// httpSession is the kept-alive connection a running HTTP checker probes
// over. Not safe for concurrent use: a run probes one at a time.
//
// Why keep it: a probe on an open connection is a write and a read; a
// fresh one adds a TCP handshake, a socket and its teardown on both ends,
// which is most of a probe's cost on the LB and on the backend (Envoy keeps
// its health check connections for this reason; HAProxy opens one per
// check). What reuse hides, and how it is kept honest:
//
//   - a killed backend: its kernel closes the connection, so the next probe
//     reads a reset or EOF with no answer. That is also what a backend
//     closing an idle connection looks like (Node's 5 s keep-alive
//     timeout, Apache's), so a kept connection that fails that way is
//     dropped and the probe is retried once at once on a fresh connection,
//     whose outcome (connection_refused for the dead backend) is reported.
//     A timeout is never retried: a hung backend is reported as timeout
//     after one Timeout, as before.
//   - a backend that stops accepting new connections but still serves the
//     ones it has (a full accept queue, a listener closed early): a kept
//     connection keeps passing. Traffic would notice (the proxy opens new
//     connections), and a failed probe always drops the connection, so the
//     next one dials. Set the health_check's reuse_connection = false to
//     open a connection per probe, as HAProxy does, when that matters more
//     than the cost.
//   - any answer that asks to close, is not completely read (a body over
//     MaxBodySize) or leaves unread bytes drops the connection.
//
// A probe on a kept connection allocates nothing for its deadline: it is
// set on the connection, and a stopping run wakes a blocked read through
// interrupt, so a running checker holds no context hook or timer per
// connection.
type httpSession struct {
	p    *httpProber
	bufs *probeBuffers
	rec  readRecorder // reused by every exchange

	mu   sync.Mutex // guards conn and dialCancel against interrupt
	conn net.Conn   // nil before the first probe and after a failure
	// dialCancel ends the dial in progress (nil when none is). The dial's
	// context derives from context.Background, not from the run's: a
	// child of the run's context would leave that context a map of
	// children and a channel, kept for the life of the run (about 700
	// bytes a backend, 7 MB at 10,000); interrupt calls this instead.
	dialCancel context.CancelFunc
}

// probe is probeUntil with ctx's deadline (none: Timeout is the caller's).
func (s *httpSession) probe(ctx context.Context) Result {
	deadline, _ := ctx.Deadline()
	return s.probeUntil(ctx, deadline)
}

// probeUntil performs one exchange that must end by deadline, on the kept
// connection if there is one, and classifies it. ctx is the run's context,
// the same for every probe of the session: when it ends, the probe in
// progress is woken and fails.
func (s *httpSession) probeUntil(ctx context.Context, deadline time.Time) Result {
	if s.kept() {
		s.setDeadline(deadline)
		if err := ctx.Err(); err != nil {
			// Interrupted before the deadline above replaced the past
			// one interrupt set: do not wait out the deadline.
			return failure(err)
		}
		res, silent := s.exchange()
		if !silent || ctx.Err() != nil {
			return res
		}
		// The backend closed the idle connection before it read the
		// request: that says nothing about the backend; ask again afresh.
	}
	dctx, cancel := context.WithDeadline(context.Background(), deadline)
	s.mu.Lock()
	s.dialCancel = cancel
	s.mu.Unlock()
	if ctx.Err() != nil {
		cancel() // stopped before interrupt could see dialCancel
	}
	conn, res, ok := s.p.connect(dctx)
	s.mu.Lock()
	s.dialCancel = nil
	s.mu.Unlock()
	cancel()
	if ok && ctx.Err() != nil {
		_ = conn.Close()
		return failure(ctx.Err())
	}
	if !ok {
		return res
	}
	s.mu.Lock()
	s.conn = conn
	s.mu.Unlock()
	s.setDeadline(deadline)
	if err := ctx.Err(); err != nil {
		s.drop()
		return failure(err)
	}
	res, _ = s.exchange()
	return res
}

// exchange runs one exchange on s.conn, dropping the connection unless it
// can carry the next one.
func (s *httpSession) exchange() (res Result, silent bool) {
	res, reusable, silent := s.p.exchange(s.conn, false, &s.rec, s.bufs)
	if !reusable {
		s.drop()
	}
	return res, silent
}

// kept reports whether the session holds a connection.
func (s *httpSession) kept() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn != nil
}

// setDeadline bounds the kept connection's I/O by deadline.
func (s *httpSession) setDeadline(deadline time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		_ = s.conn.SetDeadline(deadline)
	}
}

// interrupt wakes a probe blocked on the kept connection, or dialing a new
// one, at once (its run is stopping and has canceled the probe's context
// first). Safe to call from another goroutine while a probe runs.
func (s *httpSession) interrupt() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dialCancel != nil {
		s.dialCancel()
	}
	if s.conn != nil {
		_ = s.conn.SetDeadline(time.Unix(1, 0)) // long past
	}
}

// drop closes the kept connection, if any.
func (s *httpSession) drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
}

// close releases the session.
func (s *httpSession) close() { s.drop() }
