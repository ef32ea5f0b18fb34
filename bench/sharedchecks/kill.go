package main

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// killResult is the last instance killed with SIGKILL: how its backends
// found new owners.
type killResult struct {
	Victim string `json:"victim"`
	// Owned is how many backends it owned; Heirs how many of them gain a
	// new owner (fleet.Owners over the survivors; none when there are
	// no more survivors than replicas: the others owned them already).
	Owned int `json:"owned"`
	Heirs int `json:"heirs"`
	// Left is from the kill until every survivor's /status no longer
	// listed the victim (its lease expired: about the ttl).
	Left Millis `json:"left_ms"`
	// FirstProbe is, over the backends with a new owner, from the kill
	// to that owner's first probe; Missing how many got none in time.
	FirstProbe DurSpread `json:"first_probe"`
	Missing    int       `json:"missing"`
	// Gap is, over the backends it owned, the longest time each went
	// without a probe from anyone, from its last probe before the kill
	// until an interval after the last new owner's first probe.
	Gap DurSpread `json:"gap"`
	// Writes and Events are the survivors' fleet.writes and fleet.events
	// deltas from the kill to two intervals after the last new owner's
	// first probe (Window).
	Writes     uint64            `json:"writes"`
	Events     uint64            `json:"events"`
	Window     Millis            `json:"window_ms"`
	ByInstance map[string]counts `json:"by_instance"`
}

// kill kills the last running instance and measures the takeover.
func (r *runner) kill(ctx context.Context) (killResult, error) {
	victim := r.lbs[len(r.lbs)-1]
	before := r.running()
	survivors := r.lbs[:len(r.lbs)-1]
	after := before[:len(before)-1]
	res := killResult{Victim: victim.member}
	heir := map[int]int16{} // owned backend → its new owner's member index, -1: none
	for i := range r.s.Backends {
		ob := r.owners(i, before)
		if !slices.Contains(ob, victim.member) {
			continue
		}
		res.Owned++
		heir[i] = -1
		for _, m := range r.owners(i, after) {
			if !slices.Contains(ob, m) {
				heir[i] = int16(slices.Index(r.members, m))
				res.Heirs++
			}
		}
	}
	c0, err := r.adm.counters(ctx, survivors)
	if err != nil {
		return res, err
	}
	mark, at := r.bk.mark(), time.Now()
	victim.kill()
	r.lbs = survivors
	start := r.bk.at(at)

	first := map[int]time.Duration{}
	left := map[string]bool{}
	cursor := mark
	within := r.s.TTL.D() + 3*r.s.Interval.D() + time.Minute
	err = poll(ctx, within, 50*time.Millisecond, func() (bool, error) {
		for _, l := range survivors {
			if left[l.member] {
				continue
			}
			v, err := r.adm.status(ctx, l)
			if err != nil {
				return false, err
			}
			if !slices.Contains(v.Fleet.Members, victim.member) {
				left[l.member] = true
				res.Left = Millis(time.Since(at))
			}
		}
		next := r.bk.mark()
		for _, p := range r.bk.between(cursor, next) {
			i := int(p.Backend)
			if h, ok := heir[i]; ok && h >= 0 && p.Member == h {
				if _, done := first[i]; !done {
					first[i] = p.At - start
				}
			}
		}
		cursor = next
		return len(left) == len(survivors) && len(first) == res.Heirs, nil
	})
	if err != nil && err != errTimeout {
		return res, err
	}
	if err == errTimeout && len(left) < len(survivors) {
		return res, fmt.Errorf("%s killed: still listed by %d of %d survivors after %s", victim.member,
			len(survivors)-len(left), len(survivors), within)
	}
	firsts := make([]time.Duration, 0, len(first))
	for _, d := range first {
		firsts = append(firsts, d)
	}
	res.FirstProbe = durSpreadOf(firsts)
	res.Missing = res.Heirs - len(first)

	// Gaps: over one more interval, so a backend still unprobed counts.
	if err := sleep(ctx, r.s.Interval.D()); err != nil {
		return res, err
	}
	res.Gap = durSpreadOf(r.gaps(heir, mark, start, r.bk.at(time.Now())))
	if err := sleep(ctx, r.s.Interval.D()); err != nil {
		return res, err
	}
	c1, err := r.adm.counters(ctx, survivors)
	if err != nil {
		return res, err
	}
	var d counts
	res.ByInstance, d = delta(c0, c1)
	res.Writes, res.Events, res.Window = d.Writes, d.Events, Millis(time.Since(at))
	return res, nil
}

// gaps is, for each backend of set, the longest time without any probe
// from its last probe before the kill (at start, probe log position
// mark) to end.
func (r *runner) gaps(set map[int]int16, mark int, start, end time.Duration) []time.Duration {
	last := map[int]time.Duration{}
	before := r.bk.between(0, mark)
	for k := len(before) - 1; k >= 0 && len(last) < len(set); k-- {
		i := int(before[k].Backend)
		if _, ok := set[i]; !ok {
			continue
		}
		if _, ok := last[i]; !ok {
			last[i] = before[k].At
		}
	}
	gap := map[int]time.Duration{}
	for _, p := range r.bk.between(mark, -1) {
		i := int(p.Backend)
		if _, ok := set[i]; !ok || p.At > end {
			continue
		}
		l, ok := last[i]
		if !ok {
			l = start
		}
		gap[i] = max(gap[i], p.At-l)
		last[i] = max(l, p.At)
	}
	out := make([]time.Duration, 0, len(set))
	for i := range set {
		l, ok := last[i]
		if !ok {
			l = start
		}
		out = append(out, max(gap[i], end-l))
	}
	return out
}
