package pool

// Thresholds returns the state machine's thresholds in force, defaults
// applied. Safe for concurrent use; takes the pool's lock briefly.
func (p *Pool) Thresholds() Thresholds {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.thresholds
}

// Condition is a backend's state with why it is in it, read together.
type Condition struct {
	// State and Reason are as BackendStatus shows them.
	State  State
	Reason Reason
	// Hold is why it must stay out whatever its checks say (admin_drain,
	// a removal), "" when checks decide (BackendStatus.HeldBy).
	Hold Reason
}

// HeldOutLocally reports whether the backend is out for what this
// instance's own traffic showed (a passive ejection or silence), not for
// what its active checks said.
func (c Condition) HeldOutLocally() bool {
	return c.State == StateUnhealthy && (c.Reason == ReasonPassiveEjection || c.Reason == ReasonSilent)
}

// Condition returns the backend's state, reason and hold. Safe for
// concurrent use; takes the pool's lock briefly.
func (b *Backend) Condition() Condition {
	b.pool.mu.Lock()
	defer b.pool.mu.Unlock()
	return Condition{State: b.m.state, Reason: b.m.reason, Hold: b.m.hold}
}
