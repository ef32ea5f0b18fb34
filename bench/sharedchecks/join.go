package main

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// joinResult is an instance joining the running ones: the killed one
// restarted, or a new one when nothing was killed.
type joinResult struct {
	Member string `json:"member"`
	// Restarted is whether it is the killed instance started again.
	Restarted bool `json:"restarted"`
	// Joined is from its start until it was connected and every instance
	// listed it.
	Joined Millis `json:"joined_ms"`
	// Moved is how many backends' owner sets change (fleet.Owners);
	// Changes how many owners are added or removed over them (each an
	// owner's verdict put or withdrawn).
	Moved   int `json:"moved"`
	Changes int `json:"changes"`
	// Writes and Events are the instances' fleet.writes and fleet.events
	// deltas from its start until Window after it joined (ByInstance
	// by member), and PerSecond the same by second after it joined.
	Writes     uint64            `json:"writes"`
	Events     uint64            `json:"events"`
	Window     Millis            `json:"window_ms"`
	PerSecond  []counts          `json:"per_second"`
	ByInstance map[string]counts `json:"by_instance"`
	// Owned is each instance's fleet.owned at the end.
	Owned map[string]int `json:"owned"`
	// Probes is probes per backend per interval over the last second of
	// the window (back to the replicas once ownership has moved; over
	// less than an interval it varies with where the probes fall).
	Probes float64 `json:"probes_per_backend_per_interval"`
}

// join starts an instance and counts the etcd traffic while ownership
// moves to it.
func (r *runner) join(ctx context.Context) (joinResult, error) {
	before := r.running()
	var res joinResult
	res.Member = r.members[len(before)]
	res.Restarted = len(before) < r.s.Instances
	after := append(slices.Clone(before), res.Member)
	for i := range r.s.Backends {
		ob, oa := r.owners(i, before), r.owners(i, after)
		n := 0
		for _, m := range oa {
			if !slices.Contains(ob, m) {
				n++
			}
		}
		for _, m := range ob {
			if !slices.Contains(oa, m) {
				n++
			}
		}
		if n > 0 {
			res.Moved++
			res.Changes += n
		}
	}
	c0, err := r.adm.counters(ctx, r.lbs)
	if err != nil {
		return res, err
	}
	at := time.Now()
	if err := r.start(res.Member); err != nil {
		return res, err
	}
	want := slices.Sorted(slices.Values(after))
	err = poll(ctx, readyTimeout, 50*time.Millisecond, func() (bool, error) {
		for _, l := range r.lbs {
			if l.proc.Exited() {
				return false, fmt.Errorf("%s exited: %v", l.member, l.proc.Err())
			}
			v, err := r.adm.status(ctx, l)
			if err != nil || !v.Fleet.Connected || !slices.Equal(v.Fleet.Members, want) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return res, fmt.Errorf("%s joining: %w", res.Member, err)
	}
	joined := time.Now()
	res.Joined = Millis(joined.Sub(at))
	prev := c0
	window := r.s.JoinWindow.D()
	for end := time.Duration(0); end < window; {
		end = min(end+time.Second, window)
		lastSlice := end == window
		var mark int
		var from time.Time
		if lastSlice {
			mark, from = r.bk.mark(), time.Now()
		}
		if err := sleep(ctx, time.Until(joined.Add(end))); err != nil {
			return res, err
		}
		if lastSlice {
			n := len(r.bk.between(mark, -1))
			res.Probes = float64(n) / float64(r.s.Backends) / (float64(time.Since(from)) / float64(r.s.Interval))
		}
		ck, err := r.adm.counters(ctx, r.lbs)
		if err != nil {
			return res, err
		}
		_, d := delta(prev, ck)
		res.PerSecond = append(res.PerSecond, d)
		prev = ck
	}
	var d counts
	res.ByInstance, d = delta(c0, prev)
	res.Writes, res.Events, res.Window = d.Writes, d.Events, Millis(time.Since(at))
	if res.Owned, err = r.owned(ctx); err != nil {
		return res, err
	}
	return res, nil
}
