package healthcheck

import "context"

// tcpProber passes when a TCP connection to address opens within the
// probe's timeout, and closes it at once. It proves a process listens,
// nothing more: the last resort when a backend has no health endpoint. Safe
// for concurrent use.
type tcpProber struct {
	address string // host:port to dial
}

// probe connects, closes, and classifies the dial. It fills Outcome and
// Err; the caller sets At and Latency.
func (p *tcpProber) probe(ctx context.Context) Result {
	conn, err := dial(ctx, p.address)
	if err != nil {
		return failure(err)
	}
	_ = conn.Close()
	return Result{Outcome: OutcomeCheckPassed}
}
