// Package chaos is the bench's chaos scenario: a reproducible random
// schedule of every fault the bench knows (kill, hang, drain, slow,
// errors, flap, rolling), overlapping on different backends, with
// configuration reloads that remove, add back and reweight backends, and
// operator drains through the admin API, keeping a number of backends
// untouched at every moment; carrying it out against the running
// backends and the lb under test; and judging the run: every failed
// request tied to the faults active when it started, every transition in
// the lb's /events tied to a scheduled step, the lb's resources sampled
// every second with their trend.
package chaos

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Step kinds beyond the faults (the faults use the scenario names: kill,
// hang, drain, slow, errors, flap, rolling).
const (
	// KindReload rewrites the lb's configuration and sends it SIGHUP.
	KindReload = "reload"
	// KindAdminDrain drains a backend through the admin API at At and
	// lifts the drain at Until.
	KindAdminDrain = "admin_drain"
)

// Fault kinds, as the bench's scenarios name them.
const (
	Kill    = "kill"
	Hang    = "hang"
	Drain   = "drain"
	Slow    = "slow"
	Errors  = "errors"
	Flap    = "flap"
	Rolling = "rolling"
)

// faultKinds are the faults a schedule draws from, in draw order.
func faultKinds() [7]string { return [...]string{Kill, Hang, Drain, Slow, Errors, Flap, Rolling} }

// Step is one scheduled action. Times are since the start of the load.
type Step struct {
	ID   int    `json:"id"`   // 1-based, in time order
	Kind string `json:"kind"` // a fault kind, KindReload or KindAdminDrain
	// Backend is the backend's index (b1 is 0); -1 for a reload.
	Backend int           `json:"backend"`
	At      time.Duration `json:"at"`
	// Until is when a fault is undone or a drain lifted; 0 for a reload.
	// A drain or rolling fault restarts its backend then (at once after
	// it exits for rolling).
	Until time.Duration `json:"until,omitempty"`
	// Tail is how long after Until the backend may still be out of
	// rotation for this step's sake (coming back through its checks, the
	// end of a passive ejection): the step explains what happens to its
	// backend until Until + Tail.
	Tail time.Duration `json:"tail,omitempty"`
	// Reload: the backends in the configuration from At on (indexes) and
	// every backend's weight (0 when not in it); Change says what changed.
	Members []int  `json:"members,omitempty"`
	Weights []int  `json:"weights,omitempty"`
	Change  string `json:"change,omitempty"`
	// Group numbers the steps of one rolling restart (0: none).
	Group int `json:"group,omitempty"`
}

// End is when the step stops explaining its backend's troubles.
func (s Step) End() time.Duration { return max(s.Until, s.At) + s.Tail }

// Params shape a schedule.
type Params struct {
	Seed     uint64
	Duration time.Duration
	Backends int // backends in the fleet (at least 3)
	// MinServing is how many backends are left alone at every moment: no
	// fault, drain or removal, nor any step's tail (default 2).
	MinServing int
	// Every is the mean time between two steps (default 3s).
	Every time.Duration
	// Start: no step before it (default 3s); Quiet: none in the last
	// Quiet of the run, tails included (default 10s), so the end of the
	// run is measured with every backend back.
	Start, Quiet time.Duration
	// FaultMin and FaultMax bound a fault's or a drain's length (defaults
	// 2s and 6s).
	FaultMin, FaultMax time.Duration
	// DrainPeriod is the backends' drain period after SIGTERM.
	DrainPeriod time.Duration
	// ShortTail follows a step its backend recovers from through its
	// checks (hang, slow, flap, an operator drain, a re-add); LongTail
	// one that may have ejected it passively (kill, drain, errors,
	// rolling): base_ejection plus a few checks.
	ShortTail, LongTail time.Duration
}

func (p *Params) defaults() {
	if p.MinServing < 1 {
		p.MinServing = 2
	}
	if p.Every <= 0 {
		p.Every = 3 * time.Second
	}
	if p.Start <= 0 {
		p.Start = 3 * time.Second
	}
	if p.Quiet <= 0 {
		p.Quiet = 10 * time.Second
	}
	if p.FaultMin <= 0 {
		p.FaultMin = 2 * time.Second
	}
	if p.FaultMax < p.FaultMin {
		p.FaultMax = max(6*time.Second, p.FaultMin)
	}
	if p.ShortTail <= 0 {
		p.ShortTail = 4 * time.Second
	}
	if p.LongTail <= 0 {
		p.LongTail = 13 * time.Second
	}
}

// Schedule is a generated plan: the same Params give the same Schedule.
type Schedule struct {
	Params Params `json:"params"`
	Steps  []Step `json:"steps"` // by At, then ID
	// Skipped counts draws that found no backend to act on without
	// going below MinServing.
	Skipped int `json:"skipped"`
}

// planner keeps, per backend, the intervals reserved by the steps placed
// so far.
type planner struct {
	p    Params
	rng  *rand.Rand
	busy [][][2]time.Duration
}

// free reports whether backend i has nothing reserved over [a, b).
func (pl *planner) free(i int, a, b time.Duration) bool {
	for _, r := range pl.busy[i] {
		if a < r[1] && r[0] < b {
			return false
		}
	}
	return true
}

// place finds a backend, other than those in not, that is free over
// [a, b) and whose reservation leaves MinServing others free over it;
// -1 if none (a few random tries, then a scan from a random place).
func (pl *planner) place(a, b time.Duration) int {
	n := len(pl.busy)
	var cands []int
	for i := 0; i < n; i++ {
		if pl.free(i, a, b) {
			cands = append(cands, i)
		}
	}
	if len(cands) <= pl.p.MinServing {
		return -1
	}
	return cands[pl.rng.IntN(len(cands))]
}

func (pl *planner) reserve(i int, a, b time.Duration) {
	pl.busy[i] = append(pl.busy[i], [2]time.Duration{a, b})
}

// between draws a duration uniformly in [lo, hi], to the millisecond.
func (pl *planner) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(pl.rng.Int64N(int64((hi-lo)/time.Millisecond)+1))*time.Millisecond
}

// Generate draws a schedule. Every step reserves its backend from At to
// End; a step is only placed where at least MinServing other backends
// have nothing reserved over its whole reservation, so at every moment
// MinServing backends are untouched.
func Generate(p Params) (Schedule, error) {
	p.defaults()
	if p.Backends < p.MinServing+1 {
		return Schedule{}, fmt.Errorf("chaos: %d backends leave none to fault beside the %d kept serving", p.Backends, p.MinServing)
	}
	last := p.Duration - p.Quiet
	if last <= p.Start {
		return Schedule{}, fmt.Errorf("chaos: -duration %s leaves no time for faults (the first %s and the last %s are quiet)", p.Duration, p.Start, p.Quiet)
	}
	pl := &planner{p: p, rng: rand.New(rand.NewPCG(p.Seed, 0x6c622d6368616f73)), busy: make([][][2]time.Duration, p.Backends)}
	sc := Schedule{Params: p}
	type readd struct {
		at      time.Duration
		backend int
	}
	var reloads []Step // weights only, or a removal; re-adds are derived
	var readds []readd
	group := 0
	for t := p.Start; ; {
		t += pl.between(p.Every/2, p.Every*3/2)
		if t >= last {
			break
		}
		draw := pl.rng.IntN(10)
		switch {
		case draw < len(faultKinds()):
			kind := faultKinds()[draw]
			length := pl.between(p.FaultMin, p.FaultMax)
			tail := p.ShortTail
			switch kind {
			case Kill, Drain, Errors, Rolling:
				tail = p.LongTail
			}
			if kind == Drain {
				length = max(length, p.DrainPeriod+time.Second)
			}
			if kind == Rolling {
				// Each backend in turn: drained, restarted as soon as
				// it exits, the next one once it is back.
				group++
				step := p.DrainPeriod + time.Second
				at := t
				n := 0
				for k := 0; k < p.Backends && at+step+tail <= last; k++ {
					i := pl.place(at, at+step+tail)
					if i < 0 {
						break
					}
					pl.reserve(i, at, at+step+tail)
					sc.Steps = append(sc.Steps, Step{Kind: Rolling, Backend: i, At: at, Until: at + step, Tail: tail, Group: group})
					at += step + p.ShortTail
					n++
				}
				if n == 0 {
					sc.Skipped++
					group--
				}
				continue
			}
			if t+length+tail > last {
				continue
			}
			i := pl.place(t, t+length+tail)
			if i < 0 {
				sc.Skipped++
				continue
			}
			pl.reserve(i, t, t+length+tail)
			sc.Steps = append(sc.Steps, Step{Kind: kind, Backend: i, At: t, Until: t + length, Tail: tail})
		case draw < 9:
			// A reload: new weights, and half the time one backend
			// removed until a later reload adds it back.
			r := Step{Kind: KindReload, Backend: -1, At: t}
			if pl.rng.IntN(2) == 0 {
				back := t + pl.between(2*p.FaultMin, 3*p.FaultMax)
				if back+p.ShortTail <= last {
					if i := pl.place(t, back+p.ShortTail); i >= 0 {
						pl.reserve(i, t, back+p.ShortTail)
						r.Backend = i // removed; cleared below
						readds = append(readds, readd{back, i})
					}
				}
			}
			reloads = append(reloads, r)
		default:
			length := pl.between(p.FaultMin, p.FaultMax)
			if t+length+p.ShortTail > last {
				continue
			}
			i := pl.place(t, t+length+p.ShortTail)
			if i < 0 {
				sc.Skipped++
				continue
			}
			pl.reserve(i, t, t+length+p.ShortTail)
			sc.Steps = append(sc.Steps, Step{Kind: KindAdminDrain, Backend: i, At: t, Until: t + length, Tail: p.ShortTail})
		}
	}
	for _, a := range readds {
		reloads = append(reloads, Step{Kind: KindReload, Backend: -2 - a.backend, At: a.at})
	}
	slices.SortStableFunc(reloads, func(a, b Step) int { return cmpDur(a.At, b.At) })
	// Walk the reloads in time order to give each the whole membership
	// and weights in force from then on.
	member := make([]bool, p.Backends)
	weights := make([]int, p.Backends)
	for i := range member {
		member[i], weights[i] = true, 1
	}
	for _, r := range reloads {
		var what []string
		switch {
		case r.Backend >= 0:
			member[r.Backend] = false
			what = append(what, "remove b"+fmt.Sprint(r.Backend+1))
		case r.Backend <= -2:
			i := -2 - r.Backend
			member[i] = true
			what = append(what, "add b"+fmt.Sprint(i+1))
		}
		r.Backend = -1
		// New weights for a random half of the members.
		var changed []string
		for i := range weights {
			if member[i] && pl.rng.IntN(2) == 0 {
				if w := 1 + pl.rng.IntN(5); w != weights[i] {
					weights[i] = w
					changed = append(changed, fmt.Sprintf("b%d=%d", i+1, w))
				}
			}
		}
		if len(changed) > 0 {
			what = append(what, "weights "+strings.Join(changed, " "))
		}
		if len(what) == 0 {
			what = append(what, "no change")
		}
		r.Change = strings.Join(what, ", ")
		for i := range member {
			if member[i] {
				r.Members = append(r.Members, i)
				r.Weights = append(r.Weights, weights[i])
			} else {
				r.Weights = append(r.Weights, 0)
			}
		}
		sc.Steps = append(sc.Steps, r)
	}
	slices.SortStableFunc(sc.Steps, func(a, b Step) int { return cmpDur(a.At, b.At) })
	for i := range sc.Steps {
		sc.Steps[i].ID = i + 1
	}
	return sc, nil
}

func cmpDur(a, b time.Duration) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// String prints the schedule, one step per line.
func (sc Schedule) String() string {
	var b strings.Builder
	p := sc.Params
	fmt.Fprintf(&b, "chaos schedule: seed %d, %s, %d backends, at least %d untouched at every moment, %d steps (%d draws skipped)\n",
		p.Seed, p.Duration, p.Backends, p.MinServing, len(sc.Steps), sc.Skipped)
	for _, s := range sc.Steps {
		fmt.Fprintf(&b, "  %s\n", s.Describe())
	}
	return b.String()
}

// Describe is one line about the step.
func (s Step) Describe() string {
	at := fmt.Sprintf("#%-3d %8.3fs", s.ID, s.At.Seconds())
	switch s.Kind {
	case KindReload:
		return fmt.Sprintf("%s reload: %s", at, s.Change)
	case KindAdminDrain:
		return fmt.Sprintf("%s admin drain b%d, undrain at %.3fs", at, s.Backend+1, s.Until.Seconds())
	}
	return fmt.Sprintf("%s %s b%d until %.3fs", at, s.Kind, s.Backend+1, s.Until.Seconds())
}
