package healthcheck

import (
	"context"
	"net"
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
type httpSession struct {
	p    *httpProber
	bufs *probeBuffers
	conn net.Conn // nil before the first probe and after a failure
}

// probe performs one exchange bounded by ctx, on the kept connection if
// there is one, and classifies it.
func (s *httpSession) probe(ctx context.Context) Result {
	if s.conn != nil {
		res, silent := s.exchange(ctx)
		if !silent || ctx.Err() != nil {
			return res
		}
		// The backend closed the idle connection before it read the
		// request: that says nothing about the backend; ask again afresh.
	}
	conn, res, ok := s.p.connect(ctx)
	if !ok {
		return res
	}
	s.conn = conn
	res, _ = s.exchange(ctx)
	return res
}

// exchange runs one exchange on s.conn, dropping the connection unless it
// can carry the next one.
func (s *httpSession) exchange(ctx context.Context) (res Result, silent bool) {
	res, reusable, silent := s.p.exchange(ctx, s.conn, s.p.keepAlive, s.bufs)
	if !reusable {
		s.drop()
	}
	return res, silent
}

// drop closes the kept connection, if any.
func (s *httpSession) drop() {
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
}

// close releases the session.
func (s *httpSession) close() { s.drop() }
