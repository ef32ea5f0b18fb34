package pool

import "time"

// Resilience configures the request-path signals of a pool. They are
// reasons on the one state machine, never a second one: an ejected or
// silent backend is UNHEALTHY with reason passive_ejection or silent, and
// /status shows it so. The zero value turns every signal off and fails
// open (FailClosed false), as an AWS ALB does.
type Resilience struct {
	// Passive ejects a backend whose requests fail in a row.
	Passive Passive
	// Silent skips a backend that answers nothing while others answer.
	Silent Silent
	// PanicThreshold is a percentage: when fewer of the pool's checked
	// backends than this are HEALTHY, requests go to every HEALTHY or
	// UNHEALTHY backend (never a DRAINING, DRAINED or INITIAL one), as
	// Envoy does. 0 disables panic routing.
	PanicThreshold int
	// FailClosed answers 503 when no backend is HEALTHY; false (fail open,
	// as an AWS ALB does) routes across the UNHEALTHY ones instead.
	FailClosed bool
	// SlowStart ramps a backend that has just become HEALTHY (while others
	// were serving) from 10% to 100% of its share of new requests over
	// this window, for every algorithm. 0 disables it.
	SlowStart time.Duration
}

// Passive configures passive outlier detection.
type Passive struct {
	// Enabled turns it on.
	Enabled bool
	// ConsecutiveFailures (5xx answers, transport errors and timeouts in a
	// row) eject a backend; 0 means DefaultConsecutiveFailures.
	ConsecutiveFailures int
	// ConsecutiveTimeouts (per-try timeouts in a row) eject it sooner; 0
	// means DefaultConsecutiveTimeouts.
	ConsecutiveTimeouts int
	// BaseEjection × times ejected, capped at MaxEjection, is how long an
	// ejection lasts; 0 means DefaultBaseEjection and DefaultMaxEjection
	// (MaxEjection is never below BaseEjection). The backend returns once
	// that time has passed and a check passes.
	BaseEjection, MaxEjection time.Duration
	// MaxEjectedPercent caps the share of the pool that passive ejection
	// and silent detection together may hold out (rounded down, so a
	// one-backend pool is never ejected): it counts those whose active
	// checks have not also failed, over the backends not being removed
	// (holdout.go). A backend whose ejection it refuses sheds most of its
	// requests while it is Failing. It has no default here: 0 holds none
	// out (the configuration's default is
	// config.DefaultMaxEjectedPercent).
	MaxEjectedPercent int
}

// Defaults for zero Passive fields. They equal config's defaults of the
// same names; server's TestRuntimeDefaultsMatchConfig holds them to it.
const (
	DefaultConsecutiveFailures = 5
	DefaultConsecutiveTimeouts = 2
	DefaultBaseEjection        = 10 * time.Second
	DefaultMaxEjection         = 300 * time.Second
)

// Silent configures silent-backend detection: a HEALTHY backend whose
// oldest unanswered request is older than After, and which has answered
// nothing in that time while another backend of the pool answered, gets no
// new request (UNHEALTHY, reason silent) until it answers again (a request
// or a probe).
type Silent struct {
	// Enabled turns it on.
	Enabled bool
	// After is the silence that counts; 0 derives it from the pool's
	// recent latency: 8 × p99 with a floor of 300ms, estimated every
	// second from at least 20 answers (SilentAfterInitial until then).
	After time.Duration
}

// Fixed values of the derived silence threshold. They equal config's
// SilentAfterFloor and SilentAfterAutoMultiplier; server's
// TestRuntimeDefaultsMatchConfig holds them to it.
const (
	// SilentAfterFloor is the least silence that counts in auto mode.
	SilentAfterFloor = 300 * time.Millisecond
	// SilentAfterInitial is the auto threshold until the pool has seen
	// enough answers (20) to estimate its p99: requests whose latency is
	// not known yet are not judged by the floor.
	SilentAfterInitial = time.Second
	// SilentAfterMultiplier × the pool's p99 latency is the auto threshold.
	SilentAfterMultiplier = 8
)

// withDefaults fills zero counts and durations.
func (r Resilience) withDefaults() Resilience {
	p := &r.Passive
	if p.ConsecutiveFailures < 1 {
		p.ConsecutiveFailures = DefaultConsecutiveFailures
	}
	if p.ConsecutiveTimeouts < 1 {
		p.ConsecutiveTimeouts = DefaultConsecutiveTimeouts
	}
	if p.BaseEjection <= 0 {
		p.BaseEjection = DefaultBaseEjection
	}
	if p.MaxEjection < p.BaseEjection {
		p.MaxEjection = max(DefaultMaxEjection, p.BaseEjection)
	}
	if p.MaxEjectedPercent < 0 {
		p.MaxEjectedPercent = 0
	}
	r.PanicThreshold = min(max(r.PanicThreshold, 0), 100)
	r.SlowStart = max(r.SlowStart, 0)
	return r
}

// SetResilience replaces the pool's request-path signal settings (a
// reload); backends keep their states. The eligible snapshot is rebuilt
// (O(n)) only when a setting it depends on changed: panic_threshold,
// when_all_unhealthy or slow_start. Safe for concurrent use.
func (p *Pool) SetResilience(r Resilience) {
	r = r.withDefaults()
	p.mu.Lock()
	routing := r.PanicThreshold != p.res.PanicThreshold || r.FailClosed != p.res.FailClosed || r.SlowStart != p.res.SlowStart
	p.res = r
	p.changedLocked()
	if routing {
		p.republishLocked()
	}
	stop := p.syncWatchdogLocked()
	p.mu.Unlock()
	p.flush()
	stop()
}
