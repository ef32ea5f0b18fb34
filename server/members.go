package server

import (
	"errors"
	"fmt"

	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/healthcheck"
	"github.com/lbtrust/lb/pool"
	"github.com/lbtrust/lb/proxy"
	"go.uber.org/zap"
)

// memberSync says how syncMembersLocked treats the backends it keeps and
// the ones it drops.
type memberSync struct {
	// newClients replaces every kept backend's connection pool (the
	// pool's connection settings changed).
	newClients bool
	// spec is the pool's check spec; specChanged says it differs from the
	// one the kept backends' checkers run (prevTLS is the TLS block they
	// were built under).
	spec        healthcheck.Spec
	specChanged bool
	prevTLS     *config.BackendTLS
	// removal is why a backend no longer wanted drains:
	// ReasonRemovedFromConfig for a reload, ReasonRemovedFromDiscovery for
	// a discovery update.
	removal pool.Reason
}

// desiredLocked is the backend set pr should have: its backend blocks,
// then every backend its discovery sources list that no block (and no
// earlier source) names, with the source's weight. discovered holds the
// addresses that come from sources only. lb.mu must be held.
func desiredLocked(pr *poolRuntime) (want []*config.Backend, discovered map[string]bool) {
	n := len(pr.cfg.Backends)
	for _, s := range pr.sources {
		n += len(s.targets)
	}
	want = make([]*config.Backend, 0, n)
	want = append(want, pr.cfg.Backends...)
	if n == len(want) {
		return want, nil
	}
	seen := make(map[string]bool, n)
	for _, bc := range want {
		seen[bc.Address] = true
	}
	// One array for every discovered entry: an update of a 1,000-backend
	// set allocates it once, not once per backend.
	found := make([]config.Backend, 0, n-len(want))
	discovered = make(map[string]bool, n-len(want))
	for _, s := range pr.sources {
		for _, t := range s.targets {
			if seen[t.Address] {
				continue
			}
			seen[t.Address] = true
			discovered[t.Address] = true
			found = append(found, config.Backend{Address: t.Address, Weight: max(t.Weight, 1)})
			want = append(want, &found[len(found)-1])
		}
	}
	return want, discovered
}

// syncMembersLocked brings pr's backends in line with desiredLocked: new
// ones are added INITIAL and probed at once, kept ones take their weight
// (and new connection pools or checkers when m says so), the rest drain
// with m.removal and are forgotten once drained. It returns what changed.
//
// Its cost for a pool of n backends is O(n) map lookups and weight reads,
// plus work for what changed only: each changed weight, added or removed
// backend costs the pool one snapshot rebuild. lb.mu must be held.
func (lb *LB) syncMembersLocked(pr *poolRuntime, m memberSync) []string {
	var changes []string
	pc := pr.cfg
	want, discovered := desiredLocked(pr)
	keep := make(map[string]bool, len(want))
	for _, bc := range want {
		keep[bc.Address] = true
		br := pr.backends[bc.Address]
		compare := m.specChanged
		if br == nil {
			from := ""
			if discovered[bc.Address] {
				from = " (discovered)"
			}
			nb, revived, err := lb.addBackend(pr, bc, discovered[bc.Address])
			if err != nil {
				lb.log.Error("cannot add backend", zap.String("pool", pc.Name), zap.Error(err))
				continue
			}
			br = nb
			if !revived {
				br.start(&lb.checks, br.checker, br.spec)
				changes = append(changes, fmt.Sprintf("pool %s: backend %s added%s", pc.Name, bc.Address, from))
				continue
			}
			changes = append(changes, fmt.Sprintf("pool %s: backend %s added back while draining%s", pc.Name, bc.Address, from))
			compare = true // its checker may date from older settings
		}
		b := br.backend
		if b.Weight() != bc.Weight {
			pr.pool.SetWeight(bc.Address, bc.Weight)
			changes = append(changes, fmt.Sprintf("pool %s: backend %s weight %d", pc.Name, bc.Address, bc.Weight))
		}
		if m.newClients {
			prevClient := clientOf(b)
			b.Attach(proxy.NewBackendClient(bc.Address, clientOptionsTLS(pc)))
			if prevClient != nil {
				prevClient.CloseIdle()
			}
		}
		if compare && !sameSpec(br.currentSpec(), m.spec, m.prevTLS, pc.TLS) {
			if checker, err := lb.newChecker(pr, b, m.spec, br.fleet); err == nil {
				br.start(&lb.checks, checker, m.spec)
				changes = append(changes, fmt.Sprintf("pool %s: backend %s health check restarted", pc.Name, bc.Address))
			}
		}
	}
	remove, how := pr.pool.Remove, "removed; draining"
	if m.removal == pool.ReasonRemovedFromDiscovery {
		remove, how = pr.pool.RemoveDiscovered, "no longer discovered; draining"
	}
	for addr := range pr.backends {
		if !keep[addr] {
			delete(pr.backends, addr)
			if err := remove(addr); err != nil && !errors.Is(err, pool.ErrUnknownBackend) {
				lb.log.Error("cannot remove backend", zap.String("pool", pc.Name), zap.Error(err))
			}
			changes = append(changes, fmt.Sprintf("pool %s: backend %s %s", pc.Name, addr, how))
		}
	}
	return changes
}
