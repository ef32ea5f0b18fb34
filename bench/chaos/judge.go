package chaos

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lbtrust/lb/bench/record"
)

// Input is what a chaos run observed, for Judge.
type Input struct {
	Schedule Schedule
	Done     []Done          // the steps as carried out, by ID
	Records  []record.Record // every request
	Addrs    []string        // each backend's address, by index
	Began    time.Time       // the start of the load
	Events   []Event         // the lb's /events, by Seq
	// MissingEvents counts Seqs the ring forgot before they were read.
	MissingEvents int
	Samples       []Sample // every second during the load
	// Start is the lb's resources just before the load, End after it,
	// once the load's connections were closed and the lb settled.
	Start, End Sample
	// Settled is how long the lb took to settle after the load.
	Settled time.Duration
}

// Figures is the chaos part of a report.
type Figures struct {
	Schedule Schedule `json:"schedule"`
	Done     []Done   `json:"done"`
	// Failures by cause: the faults active when each failed request was
	// in flight that can explain its kind ("errors b3 #12"), "no eligible
	// backend" (an answer 503 of the lb's own), or "unexplained".
	Causes      []Cause `json:"causes"`
	Unexplained int     `json:"unexplained_failures"`
	NoBackend   int     `json:"no_backend_failures"`
	// Transitions are the lb's backend transitions during the load;
	// UnexplainedTransitions those no scheduled step accounts for.
	Transitions            int          `json:"transitions"`
	UnexplainedTransitions []Transition `json:"unexplained_transitions"`
	// Reloads: applied by the lb, scheduled; ReloadProblems lists
	// refused or invalid reloads.
	ReloadsApplied   int      `json:"reloads_applied"`
	ReloadsScheduled int      `json:"reloads_scheduled"`
	ReloadProblems   []string `json:"reload_problems,omitempty"`
	MissingEvents    int      `json:"missing_events"`
	StepErrors       []string `json:"step_errors,omitempty"`

	Samples []Sample `json:"samples"`
	// Start, Middle and End: the lb's resources before the load, at its
	// middle, and after it (settled).
	Start    Sample  `json:"start"`
	Middle   Sample  `json:"middle"`
	End      Sample  `json:"end"`
	SettledS float64 `json:"settled_s"`
	// Slopes over the second half of the load, least squares, per minute.
	Slopes Slopes `json:"slopes_per_minute"`
}

// Cause is one line of the failures by cause.
type Cause struct {
	Cause string `json:"cause"`
	// Kinds counts the failures by kind (http_500, timeout, ...).
	Kinds map[string]int `json:"kinds"`
	Count int            `json:"count"`
	// FirstS and LastS: when the first and the last of them started.
	FirstS float64 `json:"first_s"`
	LastS  float64 `json:"last_s"`
}

// Transition is one lb transition, as the check saw it.
type Transition struct {
	AtS     float64 `json:"at_s"`
	Backend string  `json:"backend"`
	From    string  `json:"from"`
	To      string  `json:"to"`
	Reason  string  `json:"reason"`
	Detail  string  `json:"detail,omitempty"`
}

// Slopes are least-squares slopes per minute.
type Slopes struct {
	RSSMiB     float64 `json:"rss_mib"`
	Goroutines float64 `json:"goroutines"`
	FDs        float64 `json:"fds"`
	CPUPercent float64 `json:"cpu_percent"`
}

// window is when a step can explain what happens to its backend: from a
// little before it began (a request already in flight) to its end plus
// its tail, with the times it was really carried out.
type window struct {
	s        Step
	from, to time.Duration
}

// explainSlack is how far before a step's start, or after its end, a
// transition it caused may be stamped (the lb's clock and the bench's
// are one machine's, but a step's action takes a moment).
const explainSlack = time.Second

func windows(in Input) []window {
	done := map[int]Done{}
	for _, d := range in.Done {
		done[d.ID] = d
	}
	var out []window
	for _, s := range in.Schedule.Steps {
		at, until := s.At, s.Until
		if d, ok := done[s.ID]; ok {
			at = d.At
			if d.Until > 0 {
				until = d.Until
			}
		}
		out = append(out, window{s: s, from: at, to: max(until, at) + s.Tail})
	}
	return out
}

// label names a set of steps: "errors b3 #12 + kill b1 #14".
func label(ws []window) string {
	var parts []string
	for _, w := range ws {
		parts = append(parts, fmt.Sprintf("%s b%d #%d", w.s.Kind, w.s.Backend+1, w.s.ID))
	}
	return strings.Join(parts, " + ")
}

// Judge ties every failure and transition to the schedule and computes
// the resource trends.
func Judge(in Input) Figures {
	f := Figures{Schedule: in.Schedule, Done: in.Done, Samples: in.Samples, Start: in.Start, End: in.End,
		SettledS: in.Settled.Seconds(), MissingEvents: in.MissingEvents}
	for _, d := range in.Done {
		if d.Err != "" {
			f.StepErrors = append(f.StepErrors, fmt.Sprintf("#%d: %s", d.ID, d.Err))
		}
	}
	ws := windows(in)
	f.Causes, f.Unexplained, f.NoBackend = causes(in.Records, ws)
	f.judgeEvents(in, ws)
	if n := len(in.Samples); n > 0 {
		f.Middle = in.Samples[n/2]
		f.Slopes = slopes(in.Samples[n/2:])
	}
	return f
}

// causes groups the failed requests by the steps that explain them.
func causes(recs []record.Record, ws []window) (out []Cause, unexplained, noBackend int) {
	by := map[string]*Cause{}
	for _, r := range recs {
		if !r.Failed() {
			continue
		}
		end := r.Start + r.Latency
		var expl []window
		key := ""
		switch {
		case r.Kind == record.HTTPError && r.Code == 503 && r.Backend == record.NoBackend:
			key = "no eligible backend (the lb's 503)"
			noBackend++
		case r.Kind == record.HTTPError && r.Code == 500 && r.Backend != record.NoBackend:
			for _, w := range ws {
				if w.s.Kind == Errors && w.s.Backend == int(r.Backend) && end >= w.from && r.Start < w.to {
					expl = append(expl, w)
				}
			}
		case r.Backend == record.NoBackend && r.Kind != record.Refused:
			// The lb's 502/504, a timeout, a reset: a backend that died,
			// hung or went away while the request was on it.
			for _, w := range ws {
				switch w.s.Kind {
				case Kill, Hang, Drain, Rolling:
					if end >= w.from-explainSlack && r.Start < w.to {
						expl = append(expl, w)
					}
				}
			}
		}
		if key == "" {
			if len(expl) == 0 {
				key = "unexplained"
				unexplained++
			} else {
				key = label(expl)
			}
		}
		c := by[key]
		if c == nil {
			c = &Cause{Cause: key, Kinds: map[string]int{}, FirstS: r.Start.Seconds()}
			by[key] = c
		}
		c.Count++
		c.Kinds[failureKey(r)]++
		c.FirstS = min(c.FirstS, r.Start.Seconds())
		c.LastS = max(c.LastS, r.Start.Seconds())
	}
	for _, c := range by {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FirstS < out[j].FirstS })
	return out, unexplained, noBackend
}

func failureKey(r record.Record) string {
	if r.Kind == record.HTTPError {
		return fmt.Sprintf("http_%d", r.Code)
	}
	return r.Kind.String()
}

// recovery reports whether reason is that of a transition that follows
// an earlier one of the same backend (back in rotation, a drain ending):
// explained when that one was.
func recovery(reason string) bool {
	switch reason {
	case "check_passed", "answered", "initial_check", "drain_complete", "deregistration_timeout":
		return true
	}
	return false
}

// judgeEvents checks every transition, reload and drain in /events
// against the schedule.
func (f *Figures) judgeEvents(in Input, ws []window) {
	index := map[string]int{}
	for i, a := range in.Addrs {
		index[a] = i
	}
	explainedLast := map[int]bool{} // by backend: its last transition was explained
	for _, w := range ws {
		if w.s.Kind == KindReload {
			f.ReloadsScheduled++
		}
	}
	for _, e := range in.Events {
		at := e.Time.Sub(in.Began)
		i, known := index[e.Backend]
		switch e.Kind {
		case "reload":
			if at < 0 {
				continue
			}
			if e.Reason == "applied" {
				f.ReloadsApplied++
			} else {
				f.ReloadProblems = append(f.ReloadProblems, fmt.Sprintf("%+.3fs %s: %s", at.Seconds(), e.Reason, e.Detail))
			}
			continue
		case "transition":
		default:
			continue // drain and undrain actions: their transitions are checked
		}
		if at < 0 {
			explainedLast[i] = true // start-up
			continue
		}
		f.Transitions++
		ok := false
		switch {
		case !known:
		case recovery(e.Reason):
			ok = explainedLast[i]
		case e.Reason == "added_to_config" || e.Reason == "removed_from_config":
			ok = reloadToggles(ws, i, at)
		case e.Reason == "admin_drain" || e.Reason == "admin_undrain":
			for _, w := range ws {
				ok = ok || (w.s.Kind == KindAdminDrain && w.s.Backend == i && at >= w.from-explainSlack && at <= w.to+explainSlack)
			}
		default:
			for _, w := range ws {
				if w.s.Backend != i || w.s.Kind == KindAdminDrain || w.s.Kind == KindReload {
					continue
				}
				ok = ok || (at >= w.from-explainSlack && at <= w.to+explainSlack)
			}
		}
		if known {
			explainedLast[i] = ok
		}
		if !ok {
			f.UnexplainedTransitions = append(f.UnexplainedTransitions, Transition{AtS: at.Seconds(), Backend: e.Backend,
				From: e.From, To: e.To, Reason: e.Reason, Detail: e.Detail})
		}
	}
}

// reloadToggles reports whether a reload carried out near at added or
// removed backend i.
func reloadToggles(ws []window, i int, at time.Duration) bool {
	was := true // every backend is in the first configuration
	for _, w := range ws {
		if w.s.Kind != KindReload {
			continue
		}
		now := slices.Contains(w.s.Members, i)
		if now != was && at >= w.from-explainSlack && at <= w.from+5*time.Second {
			return true
		}
		was = now
	}
	return false
}

// slopes fits each series of ss by least squares, per minute.
func slopes(ss []Sample) Slopes {
	fit := func(y func(Sample) float64) float64 {
		n := float64(len(ss))
		if n < 2 {
			return 0
		}
		var sx, sy, sxx, sxy float64
		for _, s := range ss {
			x := s.At.Minutes()
			v := y(s)
			sx, sy, sxx, sxy = sx+x, sy+v, sxx+x*x, sxy+x*v
		}
		d := n*sxx - sx*sx
		if d == 0 {
			return 0
		}
		return (n*sxy - sx*sy) / d
	}
	return Slopes{
		RSSMiB:     fit(func(s Sample) float64 { return float64(s.RSS) / (1 << 20) }),
		Goroutines: fit(func(s Sample) float64 { return float64(s.Goroutines) }),
		FDs:        fit(func(s Sample) float64 { return float64(s.FDs) }),
		CPUPercent: fit(func(s Sample) float64 { return s.CPUPercent }),
	}
}
