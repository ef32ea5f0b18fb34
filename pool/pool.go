// Package pool keeps a named set of backends, their one state machine
// (INITIAL, HEALTHY, UNHEALTHY, DRAINING, DRAINED; see DESIGN.md), their
// in-flight counts and an immutable snapshot of the eligible ones that the
// request path reads without locks or allocation.
//
// Writers (probe results, drains, reloads) take the pool's lock, decide a
// transition, rebuild the snapshot if eligibility changed, and log the
// transition once. Readers (Acquire) load the snapshot atomically.
package pool

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lbtrust/lb/balancer"
	"go.uber.org/zap"
)

// ErrDuplicateBackend is returned by Add for an address the pool already
// holds. Fix the configuration: each backend appears once per pool.
var ErrDuplicateBackend = errors.New("pool: backend already in pool")

// Options configure a Pool.
type Options struct {
	// Name is the pool's configured name (for logs and status).
	Name string
	// Policy selects among eligible backends. Required; one per pool.
	Policy balancer.Policy
	// Thresholds for the state machine; zero fields take the defaults
	// (healthy 2, unhealthy 3).
	Thresholds Thresholds
	// Logger receives one info line per transition; nil logs nothing.
	Logger *zap.Logger
	// OnTransition, if set, is called once per transition after the pool's
	// lock is released, in the order transitions happened for a backend.
	// It must not block.
	OnTransition func(Transition)
}

// Pool is a named set of backends with an atomically swapped snapshot of
// the eligible ones. All methods are safe for concurrent use.
type Pool struct {
	name         string
	policy       balancer.Policy
	log          *zap.Logger
	onTransition func(Transition)

	snap atomic.Pointer[snapshot]

	mu         sync.Mutex
	thresholds Thresholds
	backends   []*Backend
}

// New returns an empty pool. It panics if opts.Policy is nil (a wiring bug,
// not an input error).
func New(opts Options) *Pool {
	if opts.Policy == nil {
		panic("pool.New: nil Policy")
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	p := &Pool{
		name:         opts.Name,
		policy:       opts.Policy,
		log:          log,
		onTransition: opts.OnTransition,
		thresholds:   opts.Thresholds.withDefaults(),
	}
	p.snap.Store(newSnapshot(nil, p.policy))
	return p
}

// Name is the pool's configured name.
func (p *Pool) Name() string { return p.name }

// Algorithm is the name of the pool's selection policy.
func (p *Pool) Algorithm() string { return p.policy.Name() }

// Add creates a backend in StateInitial (not eligible until a check passes).
// A weight below 1 is taken as 1. It returns ErrDuplicateBackend for an
// address already in the pool.
func (p *Pool) Add(address string, weight int) (*Backend, error) {
	if weight < 1 {
		weight = 1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range p.backends {
		if b.address == address {
			return nil, fmt.Errorf("%w: %s in %s", ErrDuplicateBackend, address, p.name)
		}
	}
	b := &Backend{address: address, weight: weight, pool: p}
	b.m.since = time.Now()
	p.backends = append(p.backends, b)
	return b, nil
}

// Backend returns the backend with the given address, or nil.
func (p *Pool) Backend(address string) *Backend {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range p.backends {
		if b.address == address {
			return b
		}
	}
	return nil
}

// Backends returns the pool's backends in the order they were added (a
// copy; the caller may keep it).
func (p *Pool) Backends() []*Backend {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*Backend(nil), p.backends...)
}

// Eligible is how many backends take new requests now. Lock-free.
func (p *Pool) Eligible() int { return len(p.snap.Load().backends) }

// Acquire picks an eligible backend that is not in avoid (nil avoids
// nothing), counts the request as in flight on it and returns it; the
// caller must call Release on it exactly once. It returns nil when no
// eligible backend is left. Lock-free and allocation-free.
//
// A backend that leaves rotation between the pick and the count is
// released and another is picked, so a DRAINING backend never gets a new
// request after its transition is published.
func (p *Pool) Acquire(avoid *Avoid) *Backend {
	for attempt := 0; attempt < 4; attempt++ {
		b := p.snap.Load().pick(avoid)
		if b == nil {
			return nil
		}
		b.inFlight.Add(1)
		if b.State() == StateHealthy {
			b.requests.Add(1)
			return b
		}
		b.Release(RequestLocal)
	}
	return nil
}

// observe runs the state machine for one probe result of b.
func (p *Pool) observe(b *Backend, r CheckResult) {
	p.mu.Lock()
	if b.pool != p || b.removed {
		p.mu.Unlock()
		return
	}
	var out [2]Transition
	n := 0
	if c, ok := b.m.observe(r, p.thresholds); ok {
		out[n] = p.applyLocked(b, c, r.At, r.Latency)
		n++
	}
	if c, ok := b.m.drained(b.inFlight.Load(), r.At); ok {
		out[n] = p.applyLocked(b, c, r.At, 0)
		n++
	}
	p.mu.Unlock()
	p.emit(out[:n])
}

// finishDrain moves b from DRAINING to DRAINED if nothing is in flight.
func (p *Pool) finishDrain(b *Backend) {
	p.mu.Lock()
	c, ok := b.m.drained(b.inFlight.Load(), time.Now())
	var t Transition
	if ok {
		t = p.applyLocked(b, c, b.m.since, 0)
	}
	p.mu.Unlock()
	if ok {
		p.emit([]Transition{t})
	}
}

// applyLocked publishes a decided change: the lock-free state mirror, the
// eligible snapshot when eligibility changed, and the log line.
func (p *Pool) applyLocked(b *Backend, c change, at time.Time, probeLatency time.Duration) Transition {
	b.state.Store(uint32(c.to))
	if (c.from == StateHealthy) != (c.to == StateHealthy) {
		p.republishLocked()
	}
	t := Transition{
		Pool: p.name, Backend: b.address,
		From: c.from, To: c.to, Reason: c.reason, Detail: c.detail,
		At: at, ProbeLatency: probeLatency,
	}
	p.log.Info("backend state changed",
		zap.String("pool", t.Pool),
		zap.String("backend", t.Backend),
		zap.Stringer("from", t.From),
		zap.Stringer("to", t.To),
		zap.String("reason", string(t.Reason)),
		zap.String("detail", t.Detail),
		zap.Duration("probe_latency", t.ProbeLatency),
	)
	return t
}

// republishLocked rebuilds and swaps the eligible snapshot.
func (p *Pool) republishLocked() {
	var eligible []*Backend
	for _, b := range p.backends {
		if b.State() == StateHealthy {
			eligible = append(eligible, b)
		}
	}
	p.snap.Store(newSnapshot(eligible, p.policy))
}

// emit hands transitions to the OnTransition hook, outside the lock.
func (p *Pool) emit(ts []Transition) {
	if p.onTransition == nil {
		return
	}
	for _, t := range ts {
		p.onTransition(t)
	}
}
