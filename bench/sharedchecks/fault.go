package main

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// faultResult is one backend failing its probes, then passing again.
type faultResult struct {
	Backend string   `json:"backend"`
	Owners  []string `json:"owners"`
	// Down is from the fault until every instance showed it unhealthy;
	// Up from the backend passing again until every instance showed it
	// healthy.
	Down agreement `json:"down"`
	Up   agreement `json:"up"`
}

// agreement is how long a change took to be applied by every instance,
// and the etcd traffic it caused.
type agreement struct {
	// Instances are each instance's transition.
	Instances []instanceTransition `json:"instances"`
	// All is when every instance had made its transition, as the tool
	// saw it (polling each instance's /events every 10ms).
	All Millis `json:"all_ms"`
	// Decided is the earliest transition's event time: an instance that
	// applies an owner's verdict dates its transition at the start of
	// that owner's deciding probe, not when it applied it.
	Decided Millis `json:"decided_ms"`
	// Confirmed is every instance's /status showing the state afterwards.
	Confirmed bool `json:"confirmed"`
	// Writes and Events are the fleet.writes and fleet.events the change
	// caused (summed over the instances) in Window: from the change to
	// two intervals after the last transition.
	Writes uint64 `json:"writes"`
	Events uint64 `json:"events"`
	Window Millis `json:"window_ms"`
}

// instanceTransition is when one instance moved the backend.
type instanceTransition struct {
	Member string `json:"member"`
	// Owner is whether it probes the backend itself.
	Owner bool `json:"owner"`
	// After is since the change, when the tool saw the transition in its
	// /events; At the event's own time since the change; By the member
	// whose verdict it applied.
	After Millis `json:"after_ms"`
	At    Millis `json:"at_ms"`
	By    string `json:"by,omitempty"`
}

// faultBackend is the backend made to fail: the first.
const faultBackend = 0

// fault makes one backend answer 503 until every instance shows it
// unhealthy, then 200 until every instance shows it healthy.
func (r *runner) fault(ctx context.Context) (faultResult, error) {
	addr := r.bk.addrs[faultBackend]
	res := faultResult{Backend: addr, Owners: r.owners(faultBackend, r.running())}
	var err error
	res.Down, err = r.change(ctx, addr, "unhealthy", res.Owners, r.s.Unhealthy, func() { r.bk.setFailing(faultBackend, true) })
	if err != nil {
		return res, fmt.Errorf("backend failing: %w", err)
	}
	r.progress("the failing backend passes again")
	res.Up, err = r.change(ctx, addr, "healthy", res.Owners, r.s.Healthy, func() { r.bk.setFailing(faultBackend, false) })
	if err != nil {
		return res, fmt.Errorf("backend passing again: %w", err)
	}
	return res, nil
}

// change applies do to backend addr and measures how long every running
// instance takes to show it in state (threshold probes in a row decide).
func (r *runner) change(ctx context.Context, addr, state string, owners []string, threshold int, do func()) (agreement, error) {
	var a agreement
	c0, err := r.adm.counters(ctx, r.lbs)
	if err != nil {
		return a, err
	}
	at := time.Now()
	do()
	seen := map[string]instanceTransition{}
	var decided time.Time
	within := r.s.Interval.D()*time.Duration(threshold+2) + r.s.TTL.D() + time.Minute
	err = poll(ctx, within, pollEvery, func() (bool, error) {
		for _, l := range r.lbs {
			if _, ok := seen[l.member]; ok {
				continue
			}
			ev, ok, err := r.adm.transitionTo(ctx, l, addr, state, at)
			if err != nil {
				return false, err
			}
			if ok {
				now := time.Now()
				seen[l.member] = instanceTransition{Member: l.member, Owner: slices.Contains(owners, l.member),
					After: Millis(now.Sub(at)), At: Millis(ev.Time.Sub(at)), By: ev.By}
				if decided.IsZero() || ev.Time.Before(decided) {
					decided = ev.Time
				}
			}
		}
		return len(seen) == len(r.lbs), nil
	})
	if err != nil {
		return a, fmt.Errorf("%s %s on %d of %d instances: %w", addr, state, len(seen), len(r.lbs), err)
	}
	last := time.Now()
	a.Decided = Millis(decided.Sub(at))
	for _, l := range r.lbs {
		it := seen[l.member]
		a.Instances = append(a.Instances, it)
		a.All = max(a.All, it.After)
	}
	a.Confirmed = true
	for _, l := range r.lbs {
		v, err := r.adm.status(ctx, l)
		if err != nil {
			return a, err
		}
		if v.states()[addr] != state {
			a.Confirmed = false
		}
	}
	// The owners' verdicts after the first one, and their watch events,
	// land within about an interval.
	if err := sleep(ctx, time.Until(last.Add(2*r.s.Interval.D()))); err != nil {
		return a, err
	}
	c1, err := r.adm.counters(ctx, r.lbs)
	if err != nil {
		return a, err
	}
	_, d := delta(c0, c1)
	a.Writes, a.Events, a.Window = d.Writes, d.Events, Millis(time.Since(at))
	return a, nil
}
