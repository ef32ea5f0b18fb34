package pool

import "time"

// PoolStatus is a point-in-time view of a pool for the status API.
type PoolStatus struct {
	Name      string `json:"name"`
	Algorithm string `json:"algorithm"`
	Eligible  int    `json:"eligible"`
	// Healthy is how many backends are HEALTHY; Mode is how requests are
	// routed: normal (HEALTHY only), panic (under panic_threshold),
	// fail_open or fail_closed (none HEALTHY).
	Healthy int    `json:"healthy"`
	Mode    string `json:"mode"`
	// DeregistrationDelaySeconds is how long a draining backend's
	// requests may run before they are cancelled.
	DeregistrationDelaySeconds float64 `json:"deregistration_delay_seconds"`
	// Retries counts requests sent again to another backend;
	// RetriesRefused, retries the retry budget did not allow.
	Retries        uint64 `json:"retries"`
	RetriesRefused uint64 `json:"retries_refused_by_budget"`
	// Discovery lists the pool's discovery sources (omitted when it has
	// none): where its backends come from besides backend blocks.
	Discovery []SourceStatus  `json:"discovery,omitempty"`
	Backends  []BackendStatus `json:"backends"`
}

// BackendStatus is a point-in-time view of one backend: one state and why.
type BackendStatus struct {
	Address string `json:"address"`
	Weight  int    `json:"weight"`
	State   State  `json:"state"`
	// Reason and Detail explain the last transition ("" before the first).
	Reason Reason    `json:"reason"`
	Detail string    `json:"detail,omitempty"`
	Since  time.Time `json:"since"`
	// By names the fleet member (another lb instance sharing checks, or
	// the operator's instance for a shared drain) that decided the
	// current state; "" when this instance did.
	By string `json:"by,omitempty"`
	// HeldBy is set while an operator (admin_drain), a reload
	// (removed_from_config) or the discovery sources
	// (removed_from_discovery) keep the backend out whatever its checks
	// say.
	HeldBy Reason `json:"held_by,omitempty"`
	// DrainSecondsLeft is, while DRAINING, the time left before the
	// requests still in flight are cancelled.
	DrainSecondsLeft *float64 `json:"drain_seconds_left,omitempty"`
	// LastCheck is the latest probe, nil before the first.
	LastCheck           *CheckStatus `json:"last_check"`
	ConsecutivePasses   int          `json:"consecutive_passes"`
	ConsecutiveFailures int          `json:"consecutive_failures"`
	InFlight            int64        `json:"in_flight"`
	// Upgraded is how many of InFlight are upgraded connections
	// (WebSockets) rather than requests.
	Upgraded int64 `json:"upgraded"`
	// Streams is how many of InFlight are answers whose body is being
	// relayed as it arrives (Server-Sent Events, large downloads).
	Streams  int64  `json:"streams"`
	Requests uint64 `json:"requests"`
	Errors   uint64 `json:"errors"`
	// Rescued counts requests that were waiting on the backend when it
	// was held out for not answering (silent, passive_ejection) and were
	// sent to another backend instead (see Backend.NoteRescued).
	Rescued uint64 `json:"rescued"`
}

// CheckStatus describes the latest probe of a backend.
type CheckStatus struct {
	At        time.Time `json:"at"`
	LatencyMS float64   `json:"latency_ms"`
	Outcome   Reason    `json:"outcome"`
	Code      int       `json:"code,omitempty"`
	Error     string    `json:"error,omitempty"`
	// By names the fleet member whose probes this verdict summarises; ""
	// for this instance's own probe.
	By string `json:"by,omitempty"`
}

// Status returns the pool's current view. It takes the pool's lock briefly.
func (p *Pool) Status() PoolStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	ps := p.summaryLocked()
	ps.Backends = make([]BackendStatus, 0, len(p.backends))
	for _, b := range p.backends {
		ps.Backends = append(ps.Backends, b.statusLocked())
	}
	return ps
}

// summaryLocked is the pool's view without its backends (Backends nil);
// the pool's lock must be held.
func (p *Pool) summaryLocked() PoolStatus {
	ps := PoolStatus{
		Name:                       p.name,
		Algorithm:                  p.policy.Name(),
		Eligible:                   len(p.snap.Load().backends),
		Mode:                       p.snap.Load().mode.String(),
		DeregistrationDelaySeconds: p.deregDelay.Seconds(),
		Retries:                    p.retries.Load(),
		RetriesRefused:             p.retriesRefused.Load(),
		Discovery:                  append([]SourceStatus(nil), p.sources...),
	}
	for _, b := range p.backends {
		if b.State() == StateHealthy {
			ps.Healthy++
		}
	}
	return ps
}

// statusLocked builds b's view; the pool's lock must be held.
func (b *Backend) statusLocked() BackendStatus {
	var s BackendStatus
	b.fillStatusLocked(&s, new(float64), new(CheckStatus))
	return s
}

// fillStatusLocked writes b's view into s; the pool's lock must be held.
// s.DrainSecondsLeft and s.LastCheck point at left and check when set,
// else are nil.
func (b *Backend) fillStatusLocked(s *BackendStatus, left *float64, check *CheckStatus) {
	*s = BackendStatus{
		Address:             b.address,
		Weight:              b.Weight(),
		HeldBy:              b.m.hold,
		State:               b.m.state,
		Reason:              b.m.reason,
		Detail:              b.m.detail,
		Since:               b.m.since,
		By:                  b.m.by,
		ConsecutivePasses:   b.m.passes,
		ConsecutiveFailures: b.m.failures,
		InFlight:            b.inFlight.Load(),
		Upgraded:            b.upgraded.Load(),
		Streams:             b.streams.Load(),
		Requests:            b.requests.Load(),
		Errors:              b.errors.Load(),
		Rescued:             b.rescued.Load(),
	}
	if b.m.state == StateDraining && !b.drainDeadline.IsZero() {
		*left = max(time.Until(b.drainDeadline), 0).Seconds()
		s.DrainSecondsLeft = left
	}
	if b.m.checked {
		r := b.m.lastCheck
		*check = CheckStatus{
			At:        r.At,
			LatencyMS: float64(r.Latency) / float64(time.Millisecond),
			Outcome:   r.Outcome,
			Code:      r.Code,
			By:        r.By,
		}
		if r.Err != nil {
			check.Error = r.Err.Error()
		}
		s.LastCheck = check
	}
}
