package proxy

import (
	"context"
	"sync"
	"time"
)

// closeCause says why an upgraded connection ended; the first cause
// recorded wins.
type closeCause uint32

const (
	causeNone closeCause = iota
	// causeEnded: a tunnel's both sides closed their half, a stream's
	// body was relayed whole (a clean end).
	causeEnded
	// causeError: a read or write failed on either side (a reset, or a
	// peer that closed without a clean half-close). Streams tell which
	// side with the two causes below.
	causeError
	// causeIdle: no byte either way for the idle timeout, or a peer that
	// did not read what it was sent for as long.
	causeIdle
	// causeDeregistration: the backend's deregistration delay ran out
	// (BackendClient.CloseAll).
	causeDeregistration
	// causeShutdown: the LB's grace period ran out
	// (Handler.ShutdownLong).
	causeShutdown
	// causeBackendFailed: a stream's backend closed or reset the
	// connection before the end of the body, or sent a malformed body.
	causeBackendFailed
	// causeClientGone: a stream's client went away (or stopped reading
	// for the write timeout) before the end of the body.
	causeClientGone
)

// String is the cause's label in log lines.
func (c closeCause) String() string {
	switch c {
	case causeEnded:
		return "ended"
	case causeError:
		return "error"
	case causeIdle:
		return "idle_timeout"
	case causeDeregistration:
		return "deregistration_delay_expired"
	case causeShutdown:
		return "shutdown"
	case causeBackendFailed:
		return "backend_failed"
	case causeClientGone:
		return "client_gone"
	}
	return "unknown"
}

// longExchange is an exchange that outlives its handler: an upgraded
// connection (tunnel) or a streamed answer (stream). Both hold an
// in-flight slot on their backend until they end, and both can be cut.
type longExchange interface {
	// close ends the exchange for cause (unless an earlier cause was
	// recorded): its connections are closed, so whatever copies its bytes
	// returns at once, and the exchange finishes (releases its slot,
	// leaves its sets, logs) as soon as that code has. Safe for
	// concurrent use; any number of calls.
	close(cause closeCause)
}

// longSet is a set of open long exchanges of one kind: per Handler (for
// the LB's shutdown) and per BackendClient (for its deregistration delay;
// the tunnels' connection cap is BackendClient.tunnelSlots, reserved
// before a handshake dials). The zero value is ready; it is safe for
// concurrent use.
type longSet struct {
	mu     sync.Mutex
	m      map[longExchange]struct{} // guarded by mu
	closed bool                      // no new exchange is admitted; guarded by mu
}

// add admits t unless the set is closed. It reports whether t was added.
func (s *longSet) add(t longExchange) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.m == nil {
		s.m = make(map[longExchange]struct{})
	}
	s.m[t] = struct{}{}
	return true
}

// remove forgets t (a no-op when it is not in the set).
func (s *longSet) remove(t longExchange) {
	s.mu.Lock()
	delete(s.m, t)
	s.mu.Unlock()
}

// len is the number of exchanges in the set.
func (s *longSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// isClosed reports whether the set admits no new exchange.
func (s *longSet) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// stop makes the set admit no new exchange from now on.
func (s *longSet) stop() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}

// closeAll closes every exchange in the set for cause and returns how
// many there were. With stop, the set also admits no new exchange from
// now on.
func (s *longSet) closeAll(cause closeCause, stop bool) int {
	s.mu.Lock()
	if stop {
		s.closed = true
	}
	open := make([]longExchange, 0, len(s.m))
	for t := range s.m {
		open = append(open, t)
	}
	s.mu.Unlock()
	for _, t := range open {
		t.close(cause)
	}
	return len(open)
}

// longPoll is how often waitEmpty looks at the set (shutdown only).
const longPoll = 10 * time.Millisecond

// waitEmpty waits until the set is empty or ctx is done, and reports
// whether it is empty.
func (s *longSet) waitEmpty(ctx context.Context) bool {
	t := time.NewTicker(longPoll)
	defer t.Stop()
	for s.len() > 0 {
		select {
		case <-ctx.Done():
			return s.len() == 0
		case <-t.C:
		}
	}
	return true
}
