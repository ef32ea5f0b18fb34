package server

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lbtrust/lb/admin"
	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/pool"
	"go.uber.org/zap"
)

// ErrReloadRefused wraps every reason a reload was not applied. Nothing
// changed; the running configuration keeps serving.
var ErrReloadRefused = errors.New("reload refused")

// LastReload reports the outcome of the latest reload attempt (zero before
// the first).
func (lb *LB) LastReload() admin.ReloadStatus {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	return lb.lastReload
}

// ReloadFile reads Options.ConfigPath again and applies it with Reload. A
// file with any diagnostic changes nothing: the diagnostics are logged,
// kept for /status, and returned. Options.Reloading and Reloaded are
// called around it.
func (lb *LB) ReloadFile() (err error) {
	if lb.reloading != nil {
		lb.reloading()
	}
	if lb.reloaded != nil {
		defer func() { lb.reloaded(err) }()
	}
	cfg, diags := config.Load(lb.path)
	if diags.HasErrors() {
		var lines []string
		for _, d := range diags {
			lines = append(lines, d.Error())
			lb.log.Error("reload: invalid configuration, nothing changed", zap.String("diagnostic", d.Error()))
		}
		lb.mu.Lock()
		lb.lastReload = admin.ReloadStatus{At: time.Now(), Error: "invalid configuration", Diagnostics: lines}
		lb.recordReload(lb.lastReload)
		lb.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrReloadRefused, strings.Join(lines, "; "))
	}
	return lb.Reload(cfg)
}

// Reload applies cfg to the running load balancer as a diff, or refuses it
// whole:
//
//   - Backends that stay keep their state, counters and connections; a
//     changed weight applies to the next request; changed health-check
//     settings restart the checker but keep the state.
//   - Removed backends drain (reason removed_from_config) and are forgotten
//     once their drain ends; new backends start INITIAL and are probed at
//     once.
//   - New pools and routes take effect for the next request; a removed
//     pool's backends drain.
//   - Listener and admin addresses and listener timeouts and limits
//     cannot change live: such a file is refused with a message naming each change.
func (lb *LB) Reload(cfg *config.Config) error {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	prev := lb.cfg
	changes, err := lb.reloadLocked(cfg)
	if err == nil {
		changes = lb.applyAdminLocked(prev.Admin, cfg.Admin, changes)
	}
	st := admin.ReloadStatus{At: time.Now(), OK: err == nil, Changes: changes}
	if err != nil {
		st.Error = err.Error()
		lb.log.Error("reload refused, nothing changed", zap.Error(err))
	} else {
		lb.log.Info("configuration reloaded", zap.String("config", lb.path), zap.Strings("changes", changes))
	}
	lb.lastReload = st
	lb.recordReload(st)
	return err
}

// reloadLocked is Reload with lb.mu held; it returns what changed.
func (lb *LB) reloadLocked(cfg *config.Config) ([]string, error) {
	if lb.shutdown {
		return nil, fmt.Errorf("%w: shutting down", ErrReloadRefused)
	}
	if problems := liveProblems(lb.cfg, cfg); len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrReloadRefused, strings.Join(problems, "; "))
	}
	old := make(map[string]*poolRuntime, len(lb.pools))
	for _, pr := range lb.pools {
		old[pr.cfg.Name] = pr
	}
	for _, pc := range cfg.Pools {
		if err := lb.validatePool(unvalidated(pc, old[pc.Name])); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrReloadRefused, err)
		}
	}
	alogs, err := lb.prepareAccessLogsLocked(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrReloadRefused, err)
	}
	// From here on nothing can fail for input reasons.
	var changes []string
	var next []*poolRuntime
	for _, pc := range cfg.Pools {
		pr := old[pc.Name]
		delete(old, pc.Name)
		if pr == nil {
			pr, _ = lb.newPoolRuntime(pc)
			changes = append(changes, fmt.Sprintf("pool %s added", pc.Name))
		}
		changes = append(changes, lb.updatePoolLocked(pr, pc)...)
		next = append(next, pr)
	}
	lb.pools = next
	for name, pr := range old {
		lb.stopSourcesLocked(pr)
		for addr := range pr.backends {
			pr.pool.Remove(addr)
		}
		lb.retireLocked(pr)
		changes = append(changes, fmt.Sprintf("pool %s removed; its backends drain", name))
	}
	routes := lb.routesLocked(cfg)
	for _, l := range lb.listeners {
		l.handler.SetRoutes(routes[l.name])
		// trusted_proxies is live: liveProblems has checked every
		// listener still exists.
		if lc, cur := cfg.Listener(l.name), lb.cfg.Listener(l.name); lc != nil {
			l.handler.SetTrustedProxies(lc.TrustedProxies)
			if cur != nil && !slices.Equal(cur.TrustedProxies, lc.TrustedProxies) {
				changes = append(changes, fmt.Sprintf("listener %s: trusted_proxies changed", l.name))
			}
		}
	}
	changes = append(changes, lb.reloadTLSLocked(cfg)...)
	changes = append(changes, lb.applyAccessLogsLocked(alogs)...)
	lb.cfg = cfg
	if len(changes) == 0 {
		changes = []string{"no change"}
	}
	return changes, nil
}

// unvalidated is pc as validatePool needs to see it on a reload: without
// the backends that already run in pr (the pool of that name in service,
// or nil) under the same check settings. Those were validated when they
// were added and healthcheck.New would say the same again, so a reload of
// a 10,000-backend pool that changes one backend builds one checker to
// validate, not 10,000. lb.mu must be held.
func unvalidated(pc *config.Pool, pr *poolRuntime) *config.Pool {
	if pr == nil || !sameSpec(checkSpecTLS(pr.cfg), checkSpecTLS(pc), pr.cfg.TLS, pc.TLS) {
		return pc
	}
	var fresh []*config.Backend
	for _, bc := range pc.Backends {
		if pr.backends[bc.Address] == nil {
			fresh = append(fresh, bc)
		}
	}
	out := *pc
	out.Backends = fresh
	return &out
}

// updatePoolLocked brings pr (new or existing) in line with pc and returns
// what changed. pc has passed validatePool.
//
// Its cost for a pool of n backends is O(n) map lookups and weight reads,
// plus work for what changed only: the check settings are compared once
// for the pool (every backend kept from before runs its checker under
// them; only a backend taken back while draining may run older ones, and
// is compared itself), and each changed weight, added or removed backend
// costs the pool one snapshot rebuild.
func (lb *LB) updatePoolLocked(pr *poolRuntime, pc *config.Pool) []string {
	var changes []string
	prev := pr.cfg
	pr.cfg = pc
	if !samePolicy(prev, pc) {
		pr.pool.SetPolicy(policyOf(pc))
		changes = append(changes, fmt.Sprintf("pool %s: algorithm %s -> %s", pc.Name, prev.Algorithm, pc.Algorithm))
	}
	pr.pool.SetThresholds(thresholds(pc))
	pr.pool.SetDeregistrationDelay(pc.DeregistrationDelay)
	pr.pool.SetResilience(resilience(pc))
	newClients := clientOptions(prev) != clientOptions(pc) || !prev.TLS.Equal(pc.TLS)
	spec := checkSpecTLS(pc)
	specChanged := !sameSpec(checkSpecTLS(prev), spec, prev.TLS, pc.TLS)

	changes = append(changes, lb.reconcileSourcesLocked(pr, pc)...)
	changes = append(changes, lb.syncMembersLocked(pr, memberSync{
		newClients: newClients, spec: spec, specChanged: specChanged, prevTLS: prev.TLS,
		removal: pool.ReasonRemovedFromConfig,
	})...)
	if newClients {
		changes = append(changes, fmt.Sprintf("pool %s: backend connection settings changed", pc.Name))
	}
	return changes
}

// liveProblems lists the differences between the running and the new
// configuration that cannot be applied without a restart.
func liveProblems(cur, next *config.Config) []string {
	var out []string
	curL := map[string]*config.Listener{}
	for _, l := range cur.Listeners {
		curL[l.Name] = l
	}
	for _, l := range next.Listeners {
		c := curL[l.Name]
		delete(curL, l.Name)
		switch {
		case c == nil:
			out = append(out, fmt.Sprintf("listener %q is new: adding a listener needs a restart", l.Name))
		case c.Address != l.Address:
			out = append(out, fmt.Sprintf("listener %q: address %s -> %s needs a restart", l.Name, c.Address, l.Address))
		case (c.TLS == nil) != (l.TLS == nil):
			out = append(out, fmt.Sprintf("listener %q: adding or removing its tls block needs a restart", l.Name))
		case c.ReadTimeout != l.ReadTimeout || c.WriteTimeout != l.WriteTimeout ||
			c.IdleTimeout != l.IdleTimeout || c.MaxRequestBodySize != l.MaxRequestBodySize:
			out = append(out, fmt.Sprintf("listener %q: timeouts and max_request_body_size cannot change without a restart", l.Name))
		case c.ReadHeaderTimeout != l.ReadHeaderTimeout || c.BodyReadTimeout != l.BodyReadTimeout ||
			c.MaxHeaderBytes != l.MaxHeaderBytes || c.MaxHeaderCount != l.MaxHeaderCount ||
			c.MaxURILength != l.MaxURILength || c.MaxConnections != l.MaxConnections ||
			c.RequestBufferSize != l.RequestBufferSize:
			out = append(out, fmt.Sprintf("listener %q: limits (read_header_timeout, body_read_timeout, max_header_bytes, max_header_count, max_uri_length, max_connections, request_buffer_size) cannot change without a restart", l.Name))
		}
	}
	for name := range curL {
		out = append(out, fmt.Sprintf("listener %q was removed: removing a listener needs a restart", name))
	}
	switch {
	case (cur.Admin == nil) != (next.Admin == nil):
		out = append(out, "adding or removing the admin block needs a restart")
	case cur.Admin != nil && cur.Admin.Address != next.Admin.Address:
		out = append(out, fmt.Sprintf("admin: address %s -> %s needs a restart", cur.Admin.Address, next.Admin.Address))
	}
	if !cur.Fleet.Equal(next.Fleet) {
		out = append(out, "adding, removing or changing the fleet block needs a restart")
	}
	return out
}
