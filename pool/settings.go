package pool

import (
	"fmt"
	"time"

	"github.com/lbtrust/lb/balancer"
)

// SetPolicy replaces the selection policy (a reload changed the
// algorithm); the next request uses it. It panics on nil.
func (p *Pool) SetPolicy(policy balancer.Policy) {
	if policy == nil {
		panic("pool.SetPolicy: nil Policy")
	}
	p.mu.Lock()
	p.policy = policy
	p.republishLocked()
	p.mu.Unlock()
	p.flush()
}

// SetThresholds replaces the state machine's thresholds; consecutive
// counts already made are kept and judged by the new ones at the next
// probe.
func (p *Pool) SetThresholds(t Thresholds) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.thresholds = t.withDefaults()
	p.changedLocked() // a held-out backend may count against the cap, or not
}

// SetDeregistrationDelay replaces the delay for drains that start from now
// on; drains already running keep their deadline.
func (p *Pool) SetDeregistrationDelay(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deregDelay = max(d, 0)
}

// SetWeight changes a backend's weight (below 1 is taken as 1); the next
// request sees it. It returns ErrUnknownBackend for an unknown address.
func (p *Pool) SetWeight(address string, weight int) error {
	p.mu.Lock()
	b := p.findLocked(address)
	if b == nil {
		p.mu.Unlock()
		return fmt.Errorf("%w: %s in %s", ErrUnknownBackend, address, p.name)
	}
	if b.weight.Swap(int64(max(weight, 1))) != int64(max(weight, 1)) {
		p.republishLocked()
	}
	p.mu.Unlock()
	p.flush()
	return nil
}
