package server

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/lbtrust/lb/admin"
	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/fleet"
	"github.com/lbtrust/lb/metrics"
	"github.com/lbtrust/lb/pool"
	"go.uber.org/zap"
)

// fleetSweep is how often the fleet runtime looks over every backend:
// gives the pool the combined verdict where its state contradicts it,
// starts or stops local probing for held-out backends, adopts backends no
// owner publishes on, and applies drains to backends added since.
const fleetSweep = time.Second

// fleetRuntime shares this instance's active checks with the other lb
// instances of its fleet (the fleet block; README "Sharing health checks
// across instances"):
//   - each backend is probed by the config's replicas owners, ranked by
//     fleet.Owners over the live members; this instance runs the checker
//     of the backends it owns and no other (the others' stay built, held);
//   - as an owner it counts its probes under the pool's thresholds
//     (ownTally) and publishes the state they reach as its verdict;
//   - the pool of every backend, owned or not, gets only the combined
//     verdict of its owners (fleet.Combine: out if any owner says out),
//     as a decisive result naming the member;
//   - passive signals stay local: a backend this instance's own traffic
//     held out (passive ejection, silence) is probed here too and only
//     those probes bring it back here;
//   - a backend no owner publishes on for interval × unhealthy_threshold
//   - ttl is adopted: probed here as if this instance owned it;
//   - while etcd is unreachable the member set is just this instance, so
//     it owns, probes and decides every backend itself.
//
// Safe for concurrent use. Lock order: fleetRuntime.mu, then
// backendRuntime.mu, then fleetBackend.mu, then the Membership's and the
// pool's own locks; none is held across a checker's stop.
type fleetRuntime struct {
	m        *fleet.Membership
	me       string
	replicas int
	log      *zap.Logger

	mu        sync.Mutex
	members   []string
	connected bool
	byTarget  map[fleet.Target]*backendRuntime

	cancel context.CancelFunc
	done   chan struct{} // closed when run has returned; nil before start
}

// newFleetRuntime makes the fleet runtime of a fleet block (nothing
// connects until start). A block without a member takes the host name.
func newFleetRuntime(fc *config.Fleet, log *zap.Logger) (*fleetRuntime, error) {
	name := fc.Member
	if name == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			return nil, fmt.Errorf("fleet: no member name and no host name to take it from: %v", err)
		}
		name = h
	}
	// No members until the first read of etcd (or the start-up grace):
	// an instance joining a fleet probes only its share from its first
	// probe, rather than everything for a moment (and publishing, then
	// withdrawing, a verdict on every backend).
	fr := &fleetRuntime{me: name, replicas: fc.Replicas, log: log.With(zap.String("member", name)),
		byTarget: map[fleet.Target]*backendRuntime{}}
	e := fc.Etcd
	m, err := fleet.New(fleet.Config{Endpoints: e.Endpoints, Prefix: e.Prefix, Name: name, TTL: fc.TTL,
		Username: e.Username, Password: string(e.Password), TLS: e.TLS, DialTimeout: e.DialTimeout,
		Listener: fr}, log)
	if err != nil {
		return nil, err
	}
	fr.m = m
	return fr, nil
}

// start joins the fleet and runs the ownership and sweep loop until stop.
func (fr *fleetRuntime) start() {
	ctx, cancel := context.WithCancel(context.Background())
	fr.cancel, fr.done = cancel, make(chan struct{})
	fr.m.Start(ctx)
	go fr.run(ctx)
}

// stop leaves the fleet (the lease is revoked, so the others take this
// instance's share at once) and waits for its goroutines. No-op before
// start.
func (fr *fleetRuntime) stop() {
	if fr.cancel == nil {
		return
	}
	fr.cancel()
	<-fr.done
	<-fr.m.Done()
}

// run follows the member set and sweeps every fleetSweep. Until the
// first member set is read no backend is probed; if etcd cannot be
// reached within the member TTL of the start, this instance goes on
// alone (it owns every backend) until it can.
func (fr *fleetRuntime) run(ctx context.Context) {
	defer close(fr.done)
	tick := time.NewTicker(fleetSweep)
	defer tick.Stop()
	alone := time.NewTimer(fr.m.TTL())
	defer alone.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-fr.m.Changed():
			alone.Stop()
			fr.membersChanged()
		case <-alone.C:
			if !fr.m.Connected() {
				fr.log.Warn("fleet: etcd unreachable since start; probing every backend here until it is reachable")
				fr.membersChanged()
			}
		case now := <-tick.C:
			fr.sweep(now)
		}
	}
}

// register adds br (a backend new to the LB) to the fleet: it gets its
// owners over the members last seen, and probes only if it is one.
func (fr *fleetRuntime) register(br *backendRuntime) {
	fb := br.fleet
	fr.mu.Lock()
	fr.byTarget[fb.target] = br
	members := fr.members
	fr.mu.Unlock()
	fb.mu.Lock()
	fr.setOwnersLocked(fb, members, time.Now())
	fb.mu.Unlock()
}

// unregister forgets br (its pool forgot the backend): its verdict is
// withdrawn and nothing of the fleet acts on it again.
func (fr *fleetRuntime) unregister(br *backendRuntime) {
	fb := br.fleet
	fr.mu.Lock()
	if fr.byTarget[fb.target] == br {
		delete(fr.byTarget, fb.target)
	}
	fr.mu.Unlock()
	fb.mu.Lock()
	fb.owned, fb.adopted, fb.local = false, false, false
	fb.mu.Unlock()
	fr.m.Withdraw(fb.target)
}

// lookup returns the backend runtime of t, or nil.
func (fr *fleetRuntime) lookup(t fleet.Target) *backendRuntime {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	return fr.byTarget[t]
}

// all returns every registered backend runtime.
func (fr *fleetRuntime) all() []*backendRuntime {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	out := make([]*backendRuntime, 0, len(fr.byTarget))
	for _, br := range fr.byTarget {
		out = append(out, br)
	}
	return out
}

// membersChanged recomputes every backend's owners over the new member
// set and starts or stops checkers accordingly.
func (fr *fleetRuntime) membersChanged() {
	members, connected := fr.m.Members(), fr.m.Connected()
	fr.mu.Lock()
	was := fr.connected
	fr.members, fr.connected = members, connected
	fr.mu.Unlock()
	if was && !connected {
		fr.log.Warn("fleet: etcd unreachable; probing every backend here until it is back")
	}
	now := time.Now()
	var gained, lost int
	for _, br := range fr.all() {
		fb := br.fleet
		fb.mu.Lock()
		before := fb.owned
		fr.setOwnersLocked(fb, members, now)
		switch {
		case fb.owned && !before:
			gained++
		case before && !fb.owned:
			lost++
		}
		fb.mu.Unlock()
		br.syncProbing()
	}
	fr.log.Info("fleet members changed", zap.Strings("members", members), zap.Bool("connected", connected),
		zap.Int("backends_gained", gained), zap.Int("backends_handed_over", lost))
}

// setOwnersLocked gives fb its owners over members. Ownership gained
// starts a fresh tally; ownership lost withdraws this instance's verdict
// (unless it adopted the backend). fb.mu must be held.
func (fr *fleetRuntime) setOwnersLocked(fb *fleetBackend, members []string, now time.Time) {
	fb.owners = fleet.Owners(ownerKey(fb.target), members, fr.replicas)
	owned := slices.Contains(fb.owners, fr.me)
	switch {
	case owned && !fb.owned:
		fb.tally = ownTally{}
		fb.adopted = false
	case !owned && fb.owned:
		fb.tally = ownTally{}
		fr.m.Withdraw(fb.target)
	}
	fb.owned = owned
	if !owned && !fb.adopted {
		// New owners get the adoption grace to publish.
		fb.orphanSince = now
	}
}

// sweep looks over every backend (see fleetSweep). It allocates one
// slice of the backends per call; BenchmarkFleetSweep measures it.
func (fr *fleetRuntime) sweep(now time.Time) {
	var vs []fleet.Verdict
	for _, br := range fr.all() {
		fb := br.fleet
		c := fb.backend.Condition()
		vs = fr.m.AppendVerdicts(vs[:0], fb.target)
		fb.mu.Lock()
		fb.local = c.HeldOutLocally() && c.Hold == pool.ReasonNone
		owned := fb.owned
		fb.mu.Unlock()
		if !owned {
			grace := fr.adoptionGrace(br)
			fb.mu.Lock()
			if !fb.owned {
				fr.adoptLocked(fb, vs, now, grace)
			}
			fb.mu.Unlock()
		}
		br.syncProbing()
		if c.Hold == pool.ReasonNone {
			if d, ok := fr.m.Drained(fb.target); ok {
				fr.applyDrain(fb, d)
			}
		}
		fr.apply(fb, vs, true, &c)
	}
}

// adoptionGrace is how long a backend may go without any owner's verdict
// before this instance probes it itself: interval × unhealthy_threshold
// (an owner's first verdict comes within that even when the backend is
// down) plus the member TTL (an owner that died is replaced within it).
func (fr *fleetRuntime) adoptionGrace(br *backendRuntime) time.Duration {
	th := br.fleet.pool.Thresholds()
	return br.currentSpec().Interval*time.Duration(max(th.Unhealthy, 1)) + fr.m.TTL()
}

// adoptLocked adopts fb when no owner has published on it for grace, and
// gives it back once one has. fb.mu must be held.
func (fr *fleetRuntime) adoptLocked(fb *fleetBackend, vs []fleet.Verdict, now time.Time, grace time.Duration) {
	heard := slices.ContainsFunc(vs, func(v fleet.Verdict) bool { return slices.Contains(fb.owners, v.Member) })
	switch {
	case heard:
		fb.orphanSince = time.Time{}
		if fb.adopted {
			fb.adopted, fb.tally = false, ownTally{}
			fr.m.Withdraw(fb.target)
			fr.log.Info("fleet: an owner publishes on an adopted backend again; no longer probing it here",
				zap.String("pool", fb.target.Pool), zap.String("backend", fb.target.Backend), zap.Strings("owners", fb.owners))
		}
	case fb.adopted:
	case fb.orphanSince.IsZero():
		fb.orphanSince = now
	case now.Sub(fb.orphanSince) >= grace:
		fb.adopted, fb.tally = true, ownTally{}
		fr.log.Warn("fleet: no owner has published a verdict on this backend; probing it here (do the owners' configurations list it?)",
			zap.String("pool", fb.target.Pool), zap.String("backend", fb.target.Backend),
			zap.Strings("owners", fb.owners), zap.Duration("waited", now.Sub(fb.orphanSince)))
	}
}

// observe is a probe result of fb's checker in fleet mode: counted into
// this instance's verdict while it owns (or adopted) the backend, handed
// to the pool as it is while the backend is held out locally.
func (fr *fleetRuntime) observe(fb *fleetBackend, r pool.CheckResult) {
	fb.mu.Lock()
	var v fleet.Verdict
	publish := false
	if fb.owned || fb.adopted {
		if st, changed := fb.tally.observe(r, fb.pool.Thresholds()); changed {
			v, publish = verdictOf(fb.target, st, r), true
		}
	}
	local := fb.local
	fb.mu.Unlock()
	if local {
		fb.backend.ObserveCheck(r)
	}
	if publish {
		fr.m.Publish(v)
		fr.apply(fb, fr.m.Verdicts(fb.target), false, nil)
	}
}

// apply gives fb's pool the owners' combined verdict over vs when it
// changed, or, on a sweep, when the backend's state contradicts it. An
// up verdict never brings back a backend held out locally: its own
// probes here do. cond, when not nil, is the backend's condition as the
// sweep just read it (else it is read when needed).
func (fr *fleetRuntime) apply(fb *fleetBackend, vs []fleet.Verdict, sweep bool, cond *pool.Condition) {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	v, ok := fleet.Combine(fb.votersLocked(fr.me), vs)
	if !ok {
		return
	}
	changed := !fb.hasApplied || !fb.applied.Same(v) || fb.applied.Member != v.Member
	fb.applied, fb.hasApplied = v, true
	if !changed && !sweep {
		return
	}
	var c pool.Condition
	if cond != nil && !changed {
		c = *cond
	} else {
		c = fb.backend.Condition()
	}
	if v.State == fleet.StateUp && c.HeldOutLocally() {
		return
	}
	if !changed && !disagrees(v.State, c) {
		return
	}
	// Dated now, not at the owner's deciding probe: the combined verdict
	// changes here when the last owner it waited for spoke (an up needs
	// every owner's), which may be an interval after the probe of the
	// owner that names it; a back-dated transition would mislead
	// /events. The owner's own time is in its verdict in etcd.
	fb.backend.ObserveCheck(decisive(v, time.Now()))
}

// applyDrain drains fb as an operator's published drain d says.
func (fr *fleetRuntime) applyDrain(fb *fleetBackend, d fleet.Drain) {
	if err := fb.pool.DrainBy(fb.target.Backend, d.Member); err != nil {
		fr.log.Debug("fleet: cannot apply a drain", zap.String("pool", fb.target.Pool),
			zap.String("backend", fb.target.Backend), zap.Error(err))
	}
}

// VerdictsChanged is the Membership's news of another member's verdict.
func (fr *fleetRuntime) VerdictsChanged(t fleet.Target) {
	if br := fr.lookup(t); br != nil {
		fr.apply(br.fleet, fr.m.Verdicts(t), false, nil)
	}
}

// DrainChanged is the Membership's news of an operator's drain or undrain
// through any member.
func (fr *fleetRuntime) DrainChanged(t fleet.Target) {
	br := fr.lookup(t)
	if br == nil {
		return
	}
	fb := br.fleet
	c := fb.backend.Condition()
	d, drained := fr.m.Drained(t)
	switch {
	case drained && c.Hold == pool.ReasonNone:
		fr.applyDrain(fb, d)
	case !drained && c.Hold == pool.ReasonAdminDrain:
		if err := fb.pool.UndrainBy(t.Backend, ""); err != nil {
			fr.log.Debug("fleet: cannot apply an undrain", zap.String("pool", t.Pool),
				zap.String("backend", t.Backend), zap.Error(err))
		}
	}
}

// publishDrain tells the fleet of an operator's drain (or undrain) made
// here. The local one stands whatever happens; a failure is logged.
func (fr *fleetRuntime) publishDrain(poolName, address string, drain bool) {
	t := fleet.Target{Pool: poolName, Backend: address}
	ctx, cancel := context.WithTimeout(context.Background(), fleet.RequestTimeout)
	defer cancel()
	var err error
	if drain {
		err = fr.m.Drain(ctx, t)
	} else {
		err = fr.m.Undrain(ctx, t)
	}
	if err != nil {
		fr.log.Warn("fleet: the operator's drain applies to this instance only", zap.String("pool", poolName),
			zap.String("backend", address), zap.Bool("drain", drain), zap.Error(err))
	}
}

// state is /status's fleet section.
func (fr *fleetRuntime) state() *admin.FleetState {
	fr.mu.Lock()
	st := &admin.FleetState{Member: fr.me, Prefix: fr.m.Prefix(), Connected: fr.connected,
		Members: append([]string{}, fr.members...), Replicas: fr.replicas, Backends: len(fr.byTarget)}
	brs := make([]*backendRuntime, 0, len(fr.byTarget))
	for _, br := range fr.byTarget {
		brs = append(brs, br)
	}
	fr.mu.Unlock()
	for _, br := range brs {
		fb := br.fleet
		fb.mu.Lock()
		switch {
		case fb.owned:
			st.Owned++
		case fb.adopted:
			st.Adopted++
		case fb.local:
			st.Local++
		}
		fb.mu.Unlock()
	}
	st.Writes, st.Events = fr.m.Writes(), fr.m.Events()
	return st
}

// counts is the fleet's part of /metrics.
func (fr *fleetRuntime) counts() metrics.FleetCounts {
	st := fr.state()
	return metrics.FleetCounts{Connected: st.Connected, Members: len(st.Members), Owned: st.Owned,
		Adopted: st.Adopted, Local: st.Local, Writes: st.Writes, Events: st.Events}
}
