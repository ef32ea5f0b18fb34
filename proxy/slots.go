package proxy

import "sync/atomic"

// slots counts the holders of a capped resource and admits a new one only
// while fewer than the cap hold it. take reserves a place before the work
// that needs it starts (for tunnels: before the dial and the handshake),
// so any number of concurrent takers never exceed the cap, even while
// none has finished. The zero value is ready, with nothing held. It is
// safe for concurrent use and takes no lock.
type slots struct {
	n atomic.Int64
}

// take reserves a place unless max places are already held (max <= 0:
// no cap), and reports whether it did. Each successful take must be
// matched by exactly one give.
func (s *slots) take(max int) bool {
	for {
		n := s.n.Load()
		if max > 0 && n >= int64(max) {
			return false
		}
		if s.n.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// give returns a place reserved by take.
func (s *slots) give() { s.n.Add(-1) }
