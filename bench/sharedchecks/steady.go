package main

import (
	"context"
	"slices"
	"time"
)

// steadyResult is the steady state: probes and etcd traffic over the
// window, once ownership has settled.
type steadyResult struct {
	Window    Millis  `json:"window_ms"`
	Intervals float64 `json:"intervals"`
	// Probes is every probe the backends answered in the window;
	// PerBackendPerInterval is Probes / backends / Intervals (the
	// fleet's replicas when sharing works; 1 with one instance).
	Probes                int     `json:"probes"`
	PerBackendPerInterval float64 `json:"probes_per_backend_per_interval"`
	// Probers are the distinct instances that probed one backend in the
	// window: the fewest, the median and the most over the backends.
	Probers Spread `json:"probers"`
	// NonOwnerProbes are probes by an instance that is not one of the
	// backend's owners (fleet.Owners over the running members), on
	// NonOwnerBackends backends; Unprobed is backends no one probed.
	NonOwnerProbes   int `json:"non_owner_probes"`
	NonOwnerBackends int `json:"non_owner_backends"`
	Unprobed         int `json:"unprobed"`
	// Writes and Events are the sums over the instances of their
	// fleet.writes and fleet.events deltas, and per second.
	Writes          uint64  `json:"writes"`
	Events          uint64  `json:"events"`
	WritesPerSecond float64 `json:"writes_per_second"`
	EventsPerSecond float64 `json:"events_per_second"`
	// Owned is each instance's fleet.owned at the end of the window.
	Owned map[string]int `json:"owned"`
}

// steady measures the steady state over the settings' Duration.
func (r *runner) steady(ctx context.Context) (steadyResult, error) {
	var res steadyResult
	c0, err := r.adm.counters(ctx, r.lbs)
	if err != nil {
		return res, err
	}
	m0, t0 := r.bk.mark(), time.Now()
	if err := sleep(ctx, r.s.Duration.D()); err != nil {
		return res, err
	}
	m1, t1 := r.bk.mark(), time.Now()
	c1, err := r.adm.counters(ctx, r.lbs)
	if err != nil {
		return res, err
	}
	window := t1.Sub(t0)
	res.Window = Millis(window)
	res.Intervals = float64(window) / float64(r.s.Interval)
	_, d := delta(c0, c1)
	res.Writes, res.Events = d.Writes, d.Events
	res.WritesPerSecond = float64(res.Writes) / window.Seconds()
	res.EventsPerSecond = float64(res.Events) / window.Seconds()

	members := r.running()
	probes := r.bk.between(m0, m1)
	res.Probes = len(probes)
	res.PerBackendPerInterval = float64(len(probes)) / float64(r.s.Backends) / res.Intervals
	probers := make([]uint64, r.s.Backends) // bit m: member m probed it
	nonOwner := make([]bool, r.s.Backends)
	owners := make([][]string, r.s.Backends)
	for _, p := range probes {
		i := int(p.Backend)
		if p.Member >= 0 {
			probers[i] |= 1 << p.Member
		}
		if owners[i] == nil {
			owners[i] = r.owners(i, members)
		}
		if p.Member < 0 || !slices.Contains(owners[i], r.members[p.Member]) {
			res.NonOwnerProbes++
			nonOwner[i] = true
		}
	}
	counts := make([]float64, r.s.Backends)
	for i, bits := range probers {
		n := 0
		for ; bits != 0; bits &= bits - 1 {
			n++
		}
		counts[i] = float64(n)
		if n == 0 {
			res.Unprobed++
		}
		if nonOwner[i] {
			res.NonOwnerBackends++
		}
	}
	res.Probers = spreadOf(counts)
	if res.Owned, err = r.owned(ctx); err != nil {
		return res, err
	}
	return res, nil
}

// owned is each running instance's fleet.owned.
func (r *runner) owned(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for _, l := range r.lbs {
		v, err := r.adm.status(ctx, l)
		if err != nil {
			return nil, err
		}
		out[l.member] = v.Fleet.Owned
	}
	return out, nil
}
