package server

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/discovery"
	"github.com/lbtrust/lb/pool"
	"go.uber.org/zap"
)

// sourceRuntime is one discovery block of a pool at run time: the source
// reading its registry in a goroutine of its own, and what it last found.
// It is the source's discovery.Sink. Every field after cancel is guarded
// by LB.mu; the source's calls take LB.mu, so a set is applied like a
// reload, never in the middle of one.
type sourceRuntime struct {
	lb    *LB
	owner *poolRuntime
	cfg   *config.Discovery
	name  string // for logs, /status and metrics

	cancel context.CancelFunc // stops the running source; nil while none runs

	stopped bool               // the block left the file, or shutdown began
	targets []discovery.Target // the set in force (normalized)
	status  pool.SourceStatus
}

// sourceName is how logs, /status and metrics name the source of d.
func sourceName(d *config.Discovery) string {
	switch {
	case d.DNS != nil:
		return fmt.Sprintf("dns %s (%s)", d.DNS.Name, d.DNS.Type)
	case d.Etcd != nil:
		return "etcd " + d.Etcd.Prefix
	}
	return d.Type
}

// reconcileSourcesLocked brings pr's running sources in line with pc's
// discovery blocks: a block equal to a running one keeps it, with the set
// it found (a reload that leaves it alone changes nothing); others stop,
// and new ones start when the LB runs (else Start starts them). lb.mu must
// be held.
func (lb *LB) reconcileSourcesLocked(pr *poolRuntime, pc *config.Pool) []string {
	var changes []string
	old := slices.Clone(pr.sources)
	next := make([]*sourceRuntime, 0, len(pc.Discovery))
	for _, d := range pc.Discovery {
		var kept *sourceRuntime
		for i, s := range old {
			if s != nil && s.cfg.Equal(d) {
				kept, old[i] = s, nil
				break
			}
		}
		if kept == nil {
			kept = &sourceRuntime{lb: lb, owner: pr, name: sourceName(d), status: pool.SourceStatus{State: pool.SourcePending}}
			kept.status.Source = kept.name
			changes = append(changes, fmt.Sprintf("pool %s: discovery %s added", pc.Name, kept.name))
		}
		kept.cfg = d
		next = append(next, kept)
	}
	for _, s := range old {
		if s != nil {
			s.stopLocked()
			changes = append(changes, fmt.Sprintf("pool %s: discovery %s removed", pc.Name, s.name))
		}
	}
	pr.sources = next
	if lb.running && !lb.shutdown {
		lb.startSourcesLocked(pr)
	}
	lb.publishSourcesLocked(pr)
	return changes
}

// startSourcesLocked starts every source of pr not yet running. A source
// that cannot be made (its client refuses the settings) shows the error as
// stale in /status and is not retried until a reload changes its block.
// lb.mu must be held.
func (lb *LB) startSourcesLocked(pr *poolRuntime) {
	for _, s := range pr.sources {
		if s.cancel != nil || s.stopped {
			continue
		}
		run, err := newSource(s.cfg, lb.log.With(zap.String("pool", pr.cfg.Name)))
		if err != nil {
			lb.log.Error("discovery source cannot start", zap.String("pool", pr.cfg.Name),
				zap.String("source", s.name), zap.Error(err))
			s.failedLocked(err)
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		s.cancel = cancel
		lb.sourcesRunning.Go(func() { run.Run(ctx, s) })
	}
	lb.publishSourcesLocked(pr)
}

// stopSourcesLocked stops every source of pr (the pool leaves, or
// shutdown). Their goroutines end soon after; Shutdown waits for them.
// lb.mu must be held.
func (lb *LB) stopSourcesLocked(pr *poolRuntime) {
	for _, s := range pr.sources {
		s.stopLocked()
	}
}

// stopLocked stops s's goroutine; what it still delivers is ignored.
func (s *sourceRuntime) stopLocked() {
	s.stopped = true
	if s.cancel != nil {
		s.cancel()
	}
}

// Update applies a set the source read (discovery.Sink): when it differs
// from the one in force, pr's backends follow it, new ones INITIAL,
// missing ones draining with reason removed_from_discovery.
func (s *sourceRuntime) Update(targets []discovery.Target) {
	lb := s.lb
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if s.stopped || lb.shutdown {
		return
	}
	now := time.Now()
	targets = discovery.Normalize(targets)
	s.status.State = pool.SourceOK
	s.status.LastSuccess = &now
	s.status.Updates++
	s.status.Backends = len(targets)
	changed := !slices.Equal(targets, s.targets)
	s.targets = targets
	if changed {
		changes := lb.syncMembersLocked(s.owner, memberSync{
			spec:    checkSpecTLS(s.owner.cfg),
			prevTLS: s.owner.cfg.TLS,
			removal: pool.ReasonRemovedFromDiscovery,
		})
		if len(changes) > 0 {
			lb.log.Info("discovery: backends changed", zap.String("pool", s.owner.cfg.Name),
				zap.String("source", s.name), zap.Strings("changes", changes))
		}
	}
	lb.publishSourcesLocked(s.owner)
}

// Fail records a failed read (discovery.Sink): the set in force stays.
func (s *sourceRuntime) Fail(err error) {
	lb := s.lb
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if s.stopped || lb.shutdown {
		return
	}
	s.failedLocked(err)
	lb.publishSourcesLocked(s.owner)
}

// failedLocked records err as s's latest failure.
func (s *sourceRuntime) failedLocked(err error) {
	now := time.Now()
	s.status.State = pool.SourceStale
	s.status.LastError = err.Error()
	s.status.LastErrorAt = &now
	s.status.Errors++
}

// publishSourcesLocked hands pr's sources' status to its pool, for
// /status and /readyz. lb.mu must be held.
func (lb *LB) publishSourcesLocked(pr *poolRuntime) {
	if len(pr.sources) == 0 && len(pr.pool.Sources()) == 0 {
		return
	}
	st := make([]pool.SourceStatus, 0, len(pr.sources))
	for _, s := range pr.sources {
		st = append(st, s.status)
	}
	pr.pool.SetSources(st)
}
