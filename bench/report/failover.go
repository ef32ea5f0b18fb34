package report

import (
	"time"

	"github.com/lbtrust/lb/bench/record"
)

// FaultFigures is how the load balancer handled one fault. Times are in
// seconds; a nil figure could not be measured.
type FaultFigures struct {
	Backend     string   `json:"backend"`            // the faulted backend
	Kind        string   `json:"kind"`               // the scenario
	AtS         float64  `json:"at_s"`               // when, since the load began
	ExitedS     *float64 `json:"exited_s,omitempty"` // drain: the process exited
	RestoredAtS *float64 `json:"restored_at_s"`      // when it was undone; nil: never

	// LastRoutedS is the time from the fault to the start of the last new
	// request the load balancer routed to the faulted backend before the
	// restore; 0 when none was routed after the fault. Evidence names what
	// showed the routing: "responses" (answers it tagged, or failures no
	// backend tagged, started in the window), "lb_counters" (the lb's own
	// per-backend request counter, to one status poll), or "none"
	// (nothing was routed to it that anyone could see), or "lb_events"
	// (the load balancer's own event taking it out, from its log or
	// status, was later than any of those: an LB that retries hides a dead
	// backend from the client, but routes to it until it takes it out).
	// LastRoutedS is nil when nothing could have been seen.
	LastRoutedS *float64 `json:"last_routed_s"`
	Evidence    string   `json:"detection_evidence"` // what showed LastRoutedS
	// Detected is false when the backend still got new requests in the
	// last tenth of the window (at least 100 ms): the load balancer never
	// took it out. DetectionS is LastRoutedS when Detected, else nil.
	Detected   bool     `json:"detected"`    // the LB took the backend out
	DetectionS *float64 `json:"detection_s"` // LastRoutedS when Detected

	// RoutedInWindow counts requests started in the fault window that the
	// faulted backend answered or that failed untagged; FailedInWindow
	// counts every failure started in the window.
	RoutedInWindow int `json:"routed_in_window"` // see above
	FailedInWindow int `json:"failed_in_window"` // see above
	// Rescued is how many requests the lb rescued from the faulted
	// backend over the run (BackendInfo.Rescued); nil when unknown.
	Rescued *uint64 `json:"rescued,omitempty"`

	// RecoveryS is the time from the restore to the first request the
	// backend answered 2xx again (by start time).
	RecoveryS *float64 `json:"recovery_s"`

	// LBDownS and LBUpS are, from the load balancer's own events, when it
	// took the backend out after the fault and put it back after the
	// restore, relative to the fault and the restore respectively.
	LBDownS *float64 `json:"lb_down_s"` // since the fault
	LBUpS   *float64 `json:"lb_up_s"`   // since the restore
	// LBTransitions counts the LB's state changes for the backend from
	// the fault until the end of the run (more than two: it flapped).
	LBTransitions int `json:"lb_transitions"`
}

// faultFigures measures one fault.
func faultFigures(f record.Fault, in Input, name string) FaultFigures {
	ff := FaultFigures{Backend: name, Kind: f.Kind, AtS: f.At.Seconds(), Evidence: "none"}
	if f.Backend >= 0 && f.Backend < len(in.Backends) {
		ff.Rescued = in.Backends[f.Backend].Rescued
	}
	end := f.RestoredAt
	if end == 0 {
		end = in.Config.Duration.D()
		for _, r := range in.Records {
			end = max(end, r.Start+time.Nanosecond)
		}
	} else {
		ff.RestoredAtS = secs(f.RestoredAt)
	}
	if f.Exited != 0 {
		ff.ExitedS = secs(f.Exited)
	}
	last, seen := time.Duration(-1), false
	for _, r := range in.Records {
		if r.Start < f.At || r.Start >= end {
			continue
		}
		if r.Failed() {
			ff.FailedInWindow++
		}
		if int(r.Backend) == f.Backend || (r.Failed() && r.Backend == record.NoBackend) {
			ff.RoutedInWindow++
			if r.Start > last {
				last, seen = r.Start, true
				ff.Evidence = "responses"
			}
		}
	}
	for _, c := range in.Routed {
		if c.Backend == f.Backend && c.At > f.At && c.At <= end && c.At > last {
			last, seen = c.At, true
			ff.Evidence = "lb_counters"
		}
	}
	up, down := time.Duration(-1), time.Duration(-1)
	for _, e := range in.Events {
		if e.Kind != record.EventLB || e.Backend != f.Backend || e.At < f.At {
			continue
		}
		ff.LBTransitions++
		if e.Down() && down < 0 && e.At < end {
			down = e.At
			ff.LBDownS = secs(e.At - f.At)
		}
		if e.Up() && f.RestoredAt != 0 && e.At >= f.RestoredAt && (up < 0 || e.At < up) {
			up = e.At
		}
	}
	if up >= 0 {
		ff.LBUpS = secs(up - f.RestoredAt)
	}
	if down >= 0 && down > last {
		// An LB that retries hides a dead backend from the client, but it
		// routes to it until it takes it out.
		last, seen = down, true
		ff.Evidence = "lb_events"
	}
	switch {
	case seen:
		ff.LastRoutedS = secs(last - f.At)
		tail := max((end-f.At)/10, 100*time.Millisecond)
		ff.Detected = last < end-tail
	case in.CounterPolling || f.Kind == "errors" || f.Kind == "slow" || f.Kind == "flap":
		// The LB's counters (or the backend's own answers, which it
		// tags whatever the fault) would have shown any routing.
		ff.LastRoutedS, ff.Detected = secs(0), true
	}
	if ff.Detected {
		ff.DetectionS = ff.LastRoutedS
	}
	if f.RestoredAt != 0 {
		first := time.Duration(-1)
		for _, r := range in.Records {
			if int(r.Backend) == f.Backend && !r.Failed() && r.Start >= f.RestoredAt && (first < 0 || r.Start < first) {
				first = r.Start
			}
		}
		if first >= 0 {
			ff.RecoveryS = secs(first - f.RestoredAt)
		}
	}
	return ff
}

// secs is d in seconds, to the millisecond.
func secs(d time.Duration) *float64 {
	s := float64(d.Round(time.Millisecond)) / 1e9
	return &s
}
