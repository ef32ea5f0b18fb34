package pool

import "time"

// Upgraded turns the request that Pool.Acquire started on b into an
// upgraded connection (a WebSocket or another protocol the backend
// switched to with 101 Switching Protocols), after the backend answered
// in latency. The connection keeps its in-flight slot for its whole life:
// least-loaded policies count it, a DRAINING backend waits for it (until
// its deregistration delay runs out) and /status shows it, in in_flight
// and in upgraded. It no longer counts as a request waiting for an
// answer: silent-backend detection ignores it, and how long it lives is
// never recorded as a latency. The 101 itself is an answer: it is
// observed like RequestOK (resets the consecutive-failure counts, marks
// the backend as alive). Call ReleaseUpgraded exactly once when the
// connection ends, instead of Release. Lock-free and allocation-free.
func (b *Backend) Upgraded(latency time.Duration) {
	b.upgraded.Add(1)
	b.pool.signals.observe(b, RequestOK, latency)
}

// ReleaseUpgraded ends an upgraded connection that Upgraded started. It
// is neither a success nor a failure: how long a WebSocket lives and how
// it ends say nothing about the backend's health, so it feeds no
// request-path signal and no error counter. When a DRAINING backend's
// last in-flight request or connection ends, the backend becomes
// DRAINED. Lock-free and allocation-free unless it changes a state.
func (b *Backend) ReleaseUpgraded() {
	// In-flight first: for an instant the backend looks less busy, never
	// as if a request were waiting (see scanSilent).
	n := b.inFlight.Add(-1)
	b.upgraded.Add(-1)
	if n == 0 && b.State() == StateDraining {
		b.pool.finishDrain(b)
	}
}

// UpgradedConns is the number of upgraded connections (see Upgraded) open
// on the backend now; InFlight includes them. Lock-free.
func (b *Backend) UpgradedConns() int64 { return b.upgraded.Load() }

// requestsInFlight is the in-flight count less the upgraded connections:
// the requests waiting for an answer.
func (b *Backend) requestsInFlight() int64 { return b.inFlight.Load() - b.upgraded.Load() }
