package pool

import (
	"sync/atomic"
	"time"
)

// Backend is one instance behind a pool. Its counters are atomics read and
// written by the request path without locks; its health bookkeeping is
// guarded by the owning Pool's lock. A Backend is created by Pool.Add and is
// safe for concurrent use.
type Backend struct {
	address string
	pool    *Pool
	weight  atomic.Int64

	// state mirrors machine.state for lock-free reads; written only with
	// the pool's lock held.
	state    atomic.Uint32
	inFlight atomic.Int64
	// upgraded counts the upgraded connections (WebSockets) among
	// inFlight, streams the streamed answers (long.go).
	upgraded atomic.Int64
	streams  atomic.Int64
	requests atomic.Uint64
	errors   atomic.Uint64
	// answers counts the backend's answers by status class (1xx..5xx);
	// unanswered counts tries that got no answer (transport error,
	// timeout, local failure), for metrics.
	answers    [5]atomic.Uint64
	unanswered atomic.Uint64

	attached atomic.Pointer[any]

	// Request-path signals, in ns of the pool's clock (Pool.now).
	lastAnswer     atomic.Int64 // latest answer (0: never)
	busySince      atomic.Int64 // when the in-flight count last rose from 0
	rampStart      atomic.Int64 // slow start began (0: no ramp)
	consecFailures atomic.Int64
	consecTimeouts atomic.Int64
	silent         atomic.Bool // mirrors state UNHEALTHY with reason silent
	// heldOut mirrors state UNHEALTHY with reason silent or
	// passive_ejection; noAnswer mirrors those and UNHEALTHY with reason
	// timeout (rescue.go); rescued counts requests moved off b.
	heldOut  atomic.Bool
	noAnswer atomic.Bool
	rescued  atomic.Uint64
	// holdOutRefusedAt is the pool's holdOutGen + 1 when a hold-out of b
	// (passive ejection, silent) was last refused; 0: never (holdout.go).
	holdOutRefusedAt atomic.Uint64
	// failingPicks counts the picks that landed on b while it was
	// Failing; one in failingKeep is kept (holdout.go).
	failingPicks atomic.Uint64
	// Slow-start credit, in 1/rampCreditUnit requests: earned for every
	// request the pool picks while b ramps (its ramp share of its fair
	// share of each) and spent on each request b takes. rampTick is the
	// pool's rampTicks up to which b has earned.
	rampCredit atomic.Int64
	rampTick   atomic.Uint64

	// Guarded by pool.mu:
	m             machine
	removed       bool        // the pool forgot b (a reload removed it and its drain ended)
	drainTimer    *time.Timer // deregistration timer while DRAINING
	drainGen      uint64      // invalidates a timer that fired late
	drainDeadline time.Time   // when the deregistration delay runs out
}

// Address is the backend's host:port as configured.
func (b *Backend) Address() string { return b.address }

// Weight is the configured weight (>= 1). It implements balancer.Target.
func (b *Backend) Weight() int { return int(b.weight.Load()) }

// InFlight is the number of requests the backend is serving now. It
// implements balancer.Target.
func (b *Backend) InFlight() int64 { return b.inFlight.Load() }

// State is the backend's current state, read without a lock.
func (b *Backend) State() State { return State(b.state.Load()) }

// Requests is how many requests were sent to the backend since it was added.
func (b *Backend) Requests() uint64 { return b.requests.Load() }

// Attach stores a value that travels with the backend, typically the
// proxy's connection pool for it. Safe for concurrent use; the latest value
// wins.
func (b *Backend) Attach(v any) { b.attached.Store(&v) }

// Attached returns what Attach stored, or nil. Lock-free and allocation-free.
func (b *Backend) Attached() any {
	if p := b.attached.Load(); p != nil {
		return *p
	}
	return nil
}

// NoteStatus counts one answer of the backend with HTTP status code by
// its class (1xx..5xx; codes outside 100-599 are not counted), for
// metrics. The proxy calls it once per answered try, besides Release.
// Lock-free and allocation-free.
func (b *Backend) NoteStatus(code int) {
	if c := code/100 - 1; c >= 0 && c < len(b.answers) {
		b.answers[c].Add(1)
	}
}

// Answers are a backend's try counts by how they ended.
type Answers struct {
	// ByClass[i] counts answers with status (i+1)xx.
	ByClass [5]uint64
	// Unanswered counts tries that got no answer: transport errors,
	// timeouts and failures of the LB itself (the client got an error
	// the LB generated, unless a retry answered it).
	Unanswered uint64
}

// Answers returns the backend's try counts (see NoteStatus and Release).
// Lock-free; each count is read atomically, not all at one instant.
func (b *Backend) Answers() Answers {
	var a Answers
	for i := range b.answers {
		a.ByClass[i] = b.answers[i].Load()
	}
	a.Unanswered = b.unanswered.Load()
	return a
}

// RequestOutcome classifies how a forwarded request ended, for counters
// and the request-path health signals (passive ejection, silent-backend
// detection).
type RequestOutcome uint8

const (
	// RequestOK: the backend answered (any status below 500).
	RequestOK RequestOutcome = iota
	// RequestServerError: the backend answered 5xx.
	RequestServerError
	// RequestTransportError: connect failure, reset, or a connection closed
	// before a complete answer.
	RequestTransportError
	// RequestTimeout: the backend did not answer within the per-try or
	// response timeout.
	RequestTimeout
	// RequestLocal: the request failed for a reason that is not the
	// backend's fault (the client went away, the LB's own connection limit,
	// a backend picked while it left rotation). It is never held against
	// the backend.
	RequestLocal
)

// answered reports whether the outcome is an HTTP answer from the backend.
func (o RequestOutcome) answered() bool { return o == RequestOK || o == RequestServerError }

// Release ends a request that Pool.Acquire started on this backend; latency
// is how long the backend took (0 when unknown). It must be called exactly
// once per Acquire. It feeds the request-path signals: an answer marks the
// backend as alive (a silent backend comes back at once), failures in a row
// may eject it (passive health), and answers feed the pool's latency
// estimate. When a DRAINING backend's last request ends, the backend
// becomes DRAINED. Lock-free and allocation-free unless it changes a
// state.
func (b *Backend) Release(o RequestOutcome, latency time.Duration) {
	b.release(o, latency, time.Time{})
}

// ReleaseAt is Release for a request that ended at now, the caller's own
// reading of the clock (it must be a recent one): the pool then reads no
// clock of its own. Lock-free and allocation-free unless it changes a
// state.
func (b *Backend) ReleaseAt(o RequestOutcome, latency time.Duration, now time.Time) {
	b.release(o, latency, now)
}

// release is Release at now (zero: the pool reads the clock when it needs
// it).
func (b *Backend) release(o RequestOutcome, latency time.Duration, now time.Time) {
	switch o {
	case RequestServerError, RequestTransportError, RequestTimeout:
		b.errors.Add(1)
	}
	if !o.answered() {
		b.unanswered.Add(1)
	}
	if o != RequestLocal {
		b.pool.signals.observe(b, o, latency, now)
	}
	b.pool.inFlight.Add(-1)
	if b.inFlight.Add(-1) == 0 && b.State() == StateDraining {
		b.pool.finishDrain(b)
	}
}

// ObserveCheck applies one active probe result to the state machine (see
// docs/DESIGN.md): thresholds are counted here, not in the checker (the
// server adapts each healthcheck result to a CheckResult and calls this).
// Safe for concurrent use; takes the pool's lock briefly, never blocks on
// I/O.
func (b *Backend) ObserveCheck(r CheckResult) {
	if r.At.IsZero() {
		r.At = time.Now()
	}
	b.pool.observe(b, r)
}
