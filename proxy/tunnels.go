package proxy

import (
	"context"
	"sync"
	"time"
)

// tunnelSet is a set of open upgraded connections: one per Handler (for
// the LB's shutdown) and one per BackendClient (for its deregistration
// delay and its connection cap). The zero value is ready; it is safe for
// concurrent use.
type tunnelSet struct {
	mu     sync.Mutex
	m      map[*tunnel]struct{} // guarded by mu
	closed bool                 // no new tunnel is admitted; guarded by mu
}

// add admits t unless the set is closed, or already holds max tunnels
// (max <= 0: no cap). It reports whether t was added.
func (s *tunnelSet) add(t *tunnel, max int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || (max > 0 && len(s.m) >= max) {
		return false
	}
	if s.m == nil {
		s.m = make(map[*tunnel]struct{})
	}
	s.m[t] = struct{}{}
	return true
}

// remove forgets t (a no-op when it is not in the set).
func (s *tunnelSet) remove(t *tunnel) {
	s.mu.Lock()
	delete(s.m, t)
	s.mu.Unlock()
}

// len is the number of tunnels in the set.
func (s *tunnelSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// isClosed reports whether the set admits no new tunnel.
func (s *tunnelSet) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// closeAll closes every tunnel in the set for cause and returns how many
// there were. With stop, the set also admits no new tunnel from now on.
func (s *tunnelSet) closeAll(cause closeCause, stop bool) int {
	s.mu.Lock()
	if stop {
		s.closed = true
	}
	open := make([]*tunnel, 0, len(s.m))
	for t := range s.m {
		open = append(open, t)
	}
	s.mu.Unlock()
	for _, t := range open {
		t.close(cause)
	}
	return len(open)
}

// tunnelPoll is how often waitEmpty looks at the set (shutdown only).
const tunnelPoll = 10 * time.Millisecond

// waitEmpty waits until the set is empty or ctx is done, and reports
// whether it is empty.
func (s *tunnelSet) waitEmpty(ctx context.Context) bool {
	t := time.NewTicker(tunnelPoll)
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
