package pool

import (
	"sync/atomic"
	"time"
)

// Long exchanges are requests whose answer goes on after its header: an
// upgraded connection (a WebSocket, after 101 Switching Protocols) and a
// streamed answer (a body relayed as it arrives: Server-Sent Events, a
// large download). Each keeps its in-flight slot for its whole life:
// least-loaded policies count it, a DRAINING backend waits for it (until
// its deregistration delay runs out) and /status shows it, in in_flight
// and in upgraded or streams. None counts as a request waiting for an
// answer: silent-backend detection ignores it, and how long it lives is
// never recorded as a latency.

// Upgraded turns the request that Pool.Acquire started on b into an
// upgraded connection, after the backend answered 101 in latency. The 101
// itself is an answer: it is observed like RequestOK (resets the
// consecutive-failure counts, marks the backend as alive). Call
// ReleaseUpgraded exactly once when the connection ends, instead of
// Release. Lock-free and allocation-free.
func (b *Backend) Upgraded(latency time.Duration) {
	b.upgraded.Add(1)
	b.pool.signals.observe(b, RequestOK, latency, time.Time{})
}

// ReleaseUpgraded ends an upgraded connection that Upgraded started. It
// is neither a success nor a failure: how long a WebSocket lives and how
// it ends say nothing about the backend's health, so it feeds no
// request-path signal and no error counter. When a DRAINING backend's
// last in-flight request or connection ends, the backend becomes
// DRAINED. Lock-free and allocation-free unless it changes a state.
func (b *Backend) ReleaseUpgraded() { b.endLong(&b.upgraded) }

// StartStream turns the request that Pool.Acquire started on b into a
// streamed answer, once the backend's header arrived after latency with
// outcome o (RequestOK, or RequestServerError for a 5xx). The header is
// the answer as far as the request-path signals go: it is observed as
// Release would observe it (latency estimate, consecutive failures, a
// silent backend back at once), and a 5xx counts as an error. Call
// EndStream exactly once when the body ends, instead of Release.
// Lock-free and allocation-free unless it changes a state.
func (b *Backend) StartStream(o RequestOutcome, latency time.Duration) {
	b.streams.Add(1)
	if o == RequestServerError {
		b.errors.Add(1)
	}
	b.pool.signals.observe(b, o, latency, time.Time{})
}

// EndStream ends a streamed answer that StartStream started. o says how
// its body ended: RequestOK (complete: nothing more is observed, the
// header was), RequestTransportError (the backend closed or reset the
// connection mid-body) or RequestTimeout (it sent nothing for the body
// idle timeout), which count as errors and towards passive ejection like
// any failed request, or RequestLocal (the client went away, or the LB
// cut the stream for a drain or its shutdown), which is never held
// against the backend. When a DRAINING backend's last in-flight request
// ends, the backend becomes DRAINED. Lock-free and allocation-free unless
// it changes a state.
func (b *Backend) EndStream(o RequestOutcome) {
	switch o {
	case RequestTransportError, RequestTimeout:
		b.errors.Add(1)
		b.pool.signals.observe(b, o, 0, time.Time{})
	}
	b.endLong(&b.streams)
}

// endLong releases the in-flight slot of a long exchange counted in kind.
func (b *Backend) endLong(kind *atomic.Int64) {
	// In-flight first: for an instant the backend looks less busy, never
	// as if a request were waiting (see scanSilent).
	b.pool.inFlight.Add(-1)
	n := b.inFlight.Add(-1)
	kind.Add(-1)
	if n == 0 && b.State() == StateDraining {
		b.pool.finishDrain(b)
	}
}

// UpgradedConns is the number of upgraded connections (see Upgraded) open
// on the backend now; InFlight includes them. Lock-free.
func (b *Backend) UpgradedConns() int64 { return b.upgraded.Load() }

// Streams is the number of streamed answers (see StartStream) open on the
// backend now; InFlight includes them. Lock-free.
func (b *Backend) Streams() int64 { return b.streams.Load() }

// requestsInFlight is the in-flight count less the long exchanges: the
// requests waiting for an answer.
func (b *Backend) requestsInFlight() int64 {
	return b.inFlight.Load() - b.upgraded.Load() - b.streams.Load()
}
