package proxy

import "sync/atomic"

// StreamEnds counts a listener's streamed answers by how they ended. The
// zero value is ready; it is safe for concurrent use, and counting is
// lock-free and allocation-free.
type StreamEnds struct {
	n [numStreamEnds]atomic.Uint64
}

// How a stream can end, in the order of StreamEnds.n, with the labels
// Snapshot uses.
const (
	endComplete       = iota // the body was relayed whole
	endBackendFailed         // the backend closed, reset or garbled it mid-body
	endBackendIdle           // the backend sent nothing for body_idle_timeout (or response_timeout ran out)
	endClientGone            // the client went away or stopped reading
	endDeregistration        // cut when its backend's deregistration delay ran out
	endShutdown              // cut when the LB's grace period ran out
	numStreamEnds
)

// streamEndLabels are the Snapshot keys, indexed like StreamEnds.n.
var streamEndLabels = [numStreamEnds]string{
	"complete", "backend_failed", "backend_idle", "client_gone", "deregistration", "shutdown",
}

// add counts one stream that ended for cause.
func (s *StreamEnds) add(cause closeCause) {
	i := endClientGone
	switch cause {
	case causeEnded:
		i = endComplete
	case causeBackendFailed:
		i = endBackendFailed
	case causeIdle:
		i = endBackendIdle
	case causeDeregistration:
		i = endDeregistration
	case causeShutdown:
		i = endShutdown
	}
	s.n[i].Add(1)
}

// Snapshot returns the counts by end ("complete", "backend_failed",
// "backend_idle", "client_gone", "deregistration", "shutdown"), every one
// present, zeros included. Each count is read atomically, not all at one
// instant.
func (s *StreamEnds) Snapshot() map[string]uint64 {
	m := make(map[string]uint64, numStreamEnds)
	for i, label := range streamEndLabels {
		m[label] = s.n[i].Load()
	}
	return m
}
