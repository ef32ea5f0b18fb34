// Package pool keeps a named set of backends, their one state machine
// (INITIAL, HEALTHY, UNHEALTHY, DRAINING, DRAINED; see docs/DESIGN.md), their
// in-flight counts and an immutable snapshot of the eligible ones that the
// request path reads without locks or allocation.
//
// Writers (probe results, drains, reloads, deregistration timers) take the
// pool's lock, decide a transition and rebuild the snapshot if eligibility
// changed; once the lock is released, the transition is logged once and
// handed to the OnTransition hook. Readers (Acquire) load the snapshot
// atomically.
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

// ErrUnknownBackend is returned for an address the pool does not hold.
var ErrUnknownBackend = errors.New("pool: no such backend")

// Options configure a Pool.
type Options struct {
	// Name is the pool's configured name (for logs and status).
	Name string
	// Policy selects among eligible backends. Required; one per pool.
	Policy balancer.Policy
	// Thresholds for the state machine; zero fields take the defaults
	// (DefaultHealthyThreshold, DefaultUnhealthyThreshold).
	Thresholds Thresholds
	// DeregistrationDelay is how long a DRAINING backend's in-flight
	// requests may run before the drain ends anyway (reason
	// deregistration_timeout; the wiring then cancels them). 0 means at
	// once; the pool has no default of its own (the configuration's is
	// config.DefaultDeregistrationDelay).
	DeregistrationDelay time.Duration
	// Resilience configures the request-path signals (passive ejection,
	// silent-backend detection, panic and fail-open routing, slow start);
	// the zero value turns them all off.
	Resilience Resilience
	// Logger receives one info line per transition, written after the
	// pool's lock is released; nil logs nothing.
	Logger *zap.Logger
	// OnTransition, if set, is called once per transition, after the
	// pool's lock is released, in the order the pool applied them (for
	// a backend and across the pool), one call at a time. It runs on
	// the goroutine of the call that caused the transition, or, when
	// another goroutine is delivering at that moment, on that one: a
	// call that changed a state may then return just before its hook
	// has run. It must not block for long (it holds up the pool's later
	// transitions, and the request path may be the one delivering); it
	// may call the pool's methods.
	OnTransition func(Transition)
}

// Pool is a named set of backends with an atomically swapped snapshot of
// the eligible ones. All methods are safe for concurrent use.
type Pool struct {
	name         string
	epoch        time.Time // zero of the pool's monotonic clock (now)
	log          *zap.Logger
	onTransition func(Transition)

	snap atomic.Pointer[snapshot]

	// inFlight is the sum of the backends' in-flight counts (TotalInFlight),
	// on a cache line of its own: every Acquire and Release writes it.
	_        [64]byte
	inFlight atomic.Int64
	_        [56]byte
	// members is raised when a backend is added or forgotten
	// (MembersVersion).
	members atomic.Uint64

	retries, retriesRefused atomic.Uint64
	noBackend               atomic.Uint64
	signals                 signals

	// rampTicks counts the picks made while a backend was in slow start.
	rampTicks atomic.Uint64
	// holdOutGen counts the changes that may turn a refused hold-out
	// into an allowed one (holdout.go); raised with mu held.
	holdOutGen atomic.Uint64
	// publishPending is up while a coalesced snapshot rebuild waits for
	// its window (coalesce.go); set with mu held, read by Acquire.
	publishPending atomic.Bool

	mu         sync.Mutex
	policy     balancer.Policy
	thresholds Thresholds
	deregDelay time.Duration
	res        Resilience
	// backends is never changed in place: Add appends, a removal builds
	// a new array, so a copy of the slice taken under mu stays valid
	// without it (RangeBackends).
	backends  []*Backend
	byAddress map[string]*Backend // the backends, by address (findLocked)
	sources   []SourceStatus      // what SetSources last set
	// lastPublish is when the snapshot was last rebuilt; publishTimer
	// rebuilds it at the end of a window (coalesce.go).
	lastPublish  time.Time
	publishTimer *time.Timer
	closed       bool
	watchStop    chan struct{} // closes to stop the silent-detection watchdog
	watchDone    chan struct{} // closed when it has stopped
	// watchParked is up while the watchdog sleeps with nothing to watch;
	// watchWake (buffered, 1) wakes it (wakeWatchdog).
	watchParked atomic.Bool
	watchWake   chan struct{}
	out         outbox // decided, not yet said (outbox.go)
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
		epoch:        time.Now(),
		name:         opts.Name,
		policy:       opts.Policy,
		log:          log,
		onTransition: opts.OnTransition,
		thresholds:   opts.Thresholds.withDefaults(),
		deregDelay:   max(opts.DeregistrationDelay, 0),
		res:          opts.Resilience.withDefaults(),
		byAddress:    make(map[string]*Backend),
		watchWake:    make(chan struct{}, 1),
	}
	p.snap.Store(newSnapshot(nil, modeNormal, p.policy, p))
	p.mu.Lock()
	p.syncWatchdogLocked()
	p.mu.Unlock()
	return p
}

// Name is the pool's configured name.
func (p *Pool) Name() string { return p.name }

// Algorithm is the name of the pool's selection policy.
func (p *Pool) Algorithm() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.policy.Name()
}

// Add creates a backend in StateInitial (not eligible until a check passes).
// A weight below 1 is taken as 1. It returns ErrDuplicateBackend for an
// address already in the pool, except for a backend that is still
// draining after a removal (a reload, a discovery source): that one is taken back (it starts
// over as INITIAL, reason added_to_config, with its counters) and returned
// with revived true.
func (p *Pool) Add(address string, weight int) (b *Backend, revived bool, err error) {
	return p.add(address, weight, ReasonAddedToConfig)
}

// AddDiscovered is Add for a backend a discovery source lists: one taken
// back while draining starts over with reason discovered.
func (p *Pool) AddDiscovered(address string, weight int) (b *Backend, revived bool, err error) {
	return p.add(address, weight, ReasonDiscovered)
}

// add is Add, readd the reason of a backend taken back while draining.
func (p *Pool) add(address string, weight int, readd Reason) (b *Backend, revived bool, err error) {
	p.mu.Lock()
	if x := p.byAddress[address]; x != nil {
		c, ok := x.m.readd(readd, time.Now())
		if !ok {
			p.mu.Unlock()
			return nil, false, fmt.Errorf("%w: %s in %s", ErrDuplicateBackend, address, p.name)
		}
		x.stopDrainTimerLocked()
		x.weight.Store(int64(max(weight, 1)))
		p.applyLocked(x, c, 0)
		p.mu.Unlock()
		p.flush()
		return x, true, nil
	}
	b = &Backend{address: address, pool: p}
	b.weight.Store(int64(max(weight, 1)))
	b.m.since = time.Now()
	p.backends = append(p.backends, b)
	p.byAddress[address] = b
	p.members.Add(1)
	p.changedLocked() // a larger pool may hold out more
	p.mu.Unlock()
	return b, false, nil
}

// Backend returns the backend with the given address, or nil.
func (p *Pool) Backend(address string) *Backend {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.findLocked(address)
}

// findLocked is Backend with the lock held: O(1), so that a reload
// touching a few backends of a large pool does not scan it for each.
func (p *Pool) findLocked(address string) *Backend {
	return p.byAddress[address]
}

// Backends returns the pool's backends in the order they were added (a
// copy; the caller may keep it). Backends being removed are included
// until their drain ends.
func (p *Pool) Backends() []*Backend {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*Backend(nil), p.backends...)
}

// Eligible is how many backends take new requests now (in panic or
// fail-open mode that includes UNHEALTHY ones). Lock-free.
func (p *Pool) Eligible() int { return len(p.snap.Load().backends) }

// Mode is how the pool routes now: "normal", "panic", "fail_open" or
// "fail_closed". Lock-free.
func (p *Pool) Mode() string { return p.snap.Load().mode.String() }

// Healthy is how many backends are HEALTHY now.
func (p *Pool) Healthy() int {
	s := p.snap.Load()
	if s.mode == modeNormal {
		return len(s.backends)
	}
	n := 0
	for _, b := range p.Backends() {
		if b.State() == StateHealthy {
			n++
		}
	}
	return n
}

// Acquire picks an eligible backend that is not in avoid (nil avoids
// nothing), counts the request as in flight on it and returns it; the
// caller must call Release on it exactly once. It returns nil when no
// eligible backend is left. Lock-free and allocation-free, but for the
// rare rebuild of a snapshot whose every pick had left (coalesce.go).
//
// A backend that leaves rotation between the pick and the count is
// released and another is picked, so a DRAINING backend never gets a new
// request after its transition is published.
func (p *Pool) Acquire(avoid *Avoid) *Backend { return p.acquire(avoid, time.Time{}) }

// AcquireAt is Acquire for a request that began at now, the caller's own
// reading of the clock (it must be a recent one): the pool then reads no
// clock of its own. Lock-free and allocation-free.
func (p *Pool) AcquireAt(avoid *Avoid, now time.Time) *Backend { return p.acquire(avoid, now) }

// acquire is Acquire at now (zero: the pool reads the clock when it needs
// it).
func (p *Pool) acquire(avoid *Avoid, now time.Time) *Backend {
	for attempt := 0; attempt < 4; attempt++ {
		if b, done := p.tryAcquire(avoid, now); done {
			return b
		}
	}
	if p.publishPending.Load() {
		// Every try found a backend that left while a coalesced rebuild
		// waits for its window (coalesce.go): rebuild now and pick from
		// the truth.
		p.publishPendingNow()
		b, _ := p.tryAcquire(avoid, now)
		return b
	}
	return nil
}

// tryAcquire picks once from the current snapshot and takes the pick if it
// is still eligible. done is false when it was not (it left after the
// snapshot was built): the caller may pick again. A nil b with done true
// means the snapshot has nothing to pick.
func (p *Pool) tryAcquire(avoid *Avoid, now time.Time) (b *Backend, done bool) {
	s := p.snap.Load()
	b = p.pick(s, avoid)
	if b == nil {
		return nil, true
	}
	if b.Failing() {
		b = p.shed(s, b, avoid)
	}
	if p.take(b, s.mode, now) {
		return b, true
	}
	return nil, false
}

// take counts a request in flight on b, picked from a snapshot routing in
// mode, and reports whether b may still take it (HEALTHY, or UNHEALTHY
// outside normal mode); if not, the count is undone.
func (p *Pool) take(b *Backend, mode routingMode, now time.Time) bool {
	p.inFlight.Add(1)
	if b.inFlight.Add(1)-b.upgraded.Load() == 1 {
		// The first request waiting for an answer (upgraded
		// connections are not waiting).
		b.busySince.Store(p.at(now))
	}
	if st := b.State(); st == StateHealthy || (mode != modeNormal && st == StateUnhealthy) {
		b.requests.Add(1)
		if p.watchParked.Load() {
			p.wakeWatchdog()
		}
		return true
	}
	b.Release(RequestLocal, 0)
	return false
}

// TotalInFlight is the number of requests in flight on the pool's
// backends (every state: a draining backend's requests count until they
// end), as balancer.Total for consistent_hash's load bound. Lock-free:
// one atomic load.
func (p *Pool) TotalInFlight() int64 { return p.inFlight.Load() }

// MembersVersion changes whenever a backend joins the pool or is
// forgotten, so that a cache of the pool's backends (the proxy's sticky
// cookie index) knows to rebuild; it does not change with states.
// Lock-free.
func (p *Pool) MembersVersion() uint64 { return p.members.Load() }

// Close stops the pool's deregistration timers and its silent-detection
// watchdog, and waits for the watchdog to end. Backends keep their state;
// nothing is published afterwards by timers. Call it when the pool leaves
// service for good (shutdown, or a reload that removed it). Idempotent.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	p.stopPublishTimerLocked()
	for _, b := range p.backends {
		b.stopDrainTimerLocked()
	}
	wait := p.syncWatchdogLocked()
	p.mu.Unlock()
	wait()
}

// observe runs the state machine for one probe result of b.
func (p *Pool) observe(b *Backend, r CheckResult) {
	p.mu.Lock()
	if b.pool != p || b.removed {
		p.mu.Unlock()
		return
	}
	c, ok := b.m.observe(r, p.thresholds)
	if ok {
		p.applyLocked(b, c, r.Latency)
		p.afterDrainStartLocked(b)
	} else {
		p.checkedLocked(b)
	}
	p.mu.Unlock()
	if ok {
		p.flush()
	}
}
