package pool

import "time"

// signals turns request outcomes into health signals for one pool. Placeholder
// filled in by the resilience work: for now it only records nothing.
type signals struct{}

// observe takes one request outcome on b.
func (s *signals) observe(b *Backend, o RequestOutcome, latency time.Duration) {}
