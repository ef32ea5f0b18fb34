// Package report turns what a benchmark run recorded into figures
// (counts, failures by kind, latency percentiles, detection and recovery
// times, CPU per request, a 100 ms timeline) and renders them: a terminal
// table, report.json, a self-contained report.html, and a side-by-side
// comparison of two runs.
package report

import (
	"fmt"
	"sort"
	"time"

	"github.com/lbtrust/lb/bench/chaos"
	"github.com/lbtrust/lb/bench/record"
)

// FormatVersion is the version of report.json's layout.
const FormatVersion = 1

// BucketWidth is the timeline's resolution.
const BucketWidth = 100 * time.Millisecond

// Input is everything a run observed.
type Input struct {
	Config    Config    // what the run was asked to do
	Machine   Machine   // where it ran
	StartedAt time.Time // when the run (not the load) started
	// Backends are the backends' names (b1, ...) and addresses, in index
	// order.
	Backends []BackendInfo
	Records  []record.Record // one per request
	Faults   []record.Fault  // what the scenario did
	Events   []record.Event  // timeline markers: faults, restores, LB transitions
	// Routed are the load balancer's own request-counter observations
	// (lb's /status), if it was polled.
	Routed []record.Routed
	// CounterPolling says Routed was collected (so an empty Routed means
	// the LB routed nothing to the faulted backend).
	CounterPolling bool
	// CPU is the load balancer's CPU time during the load; nil if unknown.
	CPU *time.Duration
	// Warnings are things the run wants the reader to know.
	Warnings []string
}

// BackendInfo names one backend.
type BackendInfo struct {
	Name string `json:"name"` // b1, b2, ... (the X-Backend tag)
	Addr string `json:"addr"` // 127.0.0.1:port
	// Rescued is how many requests the lb under test rescued from the
	// backend (moved to another while they waited on it, after it was
	// held out for not answering), from its /status at the end of the
	// run; nil when the target does not say (not lb, or no admin).
	Rescued *uint64 `json:"rescued,omitempty"`
}

// Report is every figure of a run; it is what report.json holds.
type Report struct {
	FormatVersion int       `json:"format_version"` // FormatVersion
	StartedAt     time.Time `json:"started_at"`     // when the run started
	Config        Config    `json:"config"`         // what it was asked to do
	Machine       Machine   `json:"machine"`        // where it ran

	Requests       int            `json:"requests"`         // every request sent
	Successes      int            `json:"successes"`        // 2xx answers
	Failures       int            `json:"failures"`         // everything else
	FailuresByKind map[string]int `json:"failures_by_kind"` // http_502, timeout, connection_refused, ...
	// DurationS is the load's length in seconds (the configured
	// duration); RPS is requests per second over it, SuccessRPS 2xx per
	// second.
	DurationS  float64 `json:"duration_s"`
	RPS        float64 `json:"rps"`
	SuccessRPS float64 `json:"success_rps"`
	Latency    Latency `json:"latency_ms"` // every request's latency, failures included

	Backends []BackendFigures `json:"backends"` // what each backend answered
	// Untagged is how many answers no backend tagged (errors the load
	// balancer made itself, transport errors).
	Untagged int `json:"untagged"`

	Faults []FaultFigures `json:"faults"` // one per injected fault

	// LBCPUSeconds is the load balancer's CPU time (user + system, every
	// process of its group) while the load ran; LBCPUMicrosPerRequest is
	// that per request.
	LBCPUSeconds          *float64 `json:"lb_cpu_seconds"`
	LBCPUMicrosPerRequest *float64 `json:"lb_cpu_us_per_request"`

	Events   []EventFigure `json:"events"`             // the timeline's markers, by time
	Timeline Timeline      `json:"timeline"`           // the run per BucketWidth
	Warnings []string      `json:"warnings,omitempty"` // what made figures doubtful

	// Chaos holds the chaos scenario's figures (schedule, failures by
	// cause, /events check, the lb's resources); nil for other scenarios.
	Chaos *chaos.Figures `json:"chaos,omitempty"`
}

// BackendFigures is what one backend served.
type BackendFigures struct {
	Name string `json:"name"` // b1, ...
	Addr string `json:"addr"` // 127.0.0.1:port
	// Answered counts every answer it tagged, Served its 2xx answers.
	Answered int `json:"answered"`
	Served   int `json:"served"`
}

// EventFigure is one timeline marker.
type EventFigure struct {
	TS      float64 `json:"t_s"`               // seconds since the load began
	Kind    string  `json:"kind"`              // fault, restore, exit or lb
	Backend string  `json:"backend,omitempty"` // the backend it concerns
	Text    string  `json:"text"`              // a description for people
}

// Build computes the report.
func Build(in Input) Report {
	r := Report{
		FormatVersion:  FormatVersion,
		StartedAt:      in.StartedAt,
		Config:         in.Config,
		Machine:        in.Machine,
		FailuresByKind: map[string]int{},
		DurationS:      in.Config.Duration.D().Seconds(),
		Warnings:       in.Warnings,
	}
	for _, b := range in.Backends {
		r.Backends = append(r.Backends, BackendFigures{Name: b.Name, Addr: b.Addr})
	}
	for _, rec := range in.Records {
		r.Requests++
		if rec.Failed() {
			r.Failures++
			r.FailuresByKind[FailureKey(rec)]++
		} else {
			r.Successes++
		}
		if b := int(rec.Backend); b >= 0 && b < len(r.Backends) {
			r.Backends[b].Answered++
			if !rec.Failed() {
				r.Backends[b].Served++
			}
		} else {
			r.Untagged++
		}
	}
	if r.DurationS > 0 {
		r.RPS = float64(r.Requests) / r.DurationS
		r.SuccessRPS = float64(r.Successes) / r.DurationS
	}
	r.Latency = latencies(in.Records)
	if in.CPU != nil {
		s := in.CPU.Seconds()
		r.LBCPUSeconds = &s
		if r.Requests > 0 {
			us := s * 1e6 / float64(r.Requests)
			r.LBCPUMicrosPerRequest = &us
		}
	}
	names := func(i int) string {
		if i >= 0 && i < len(in.Backends) {
			return in.Backends[i].Name
		}
		return ""
	}
	events := append([]record.Event(nil), in.Events...)
	sort.SliceStable(events, func(i, j int) bool { return events[i].At < events[j].At })
	in.Events = events
	for _, f := range in.Faults {
		r.Faults = append(r.Faults, faultFigures(f, in, names(f.Backend)))
	}
	for _, e := range events {
		ref := names(e.Backend)
		if ref == "" {
			ref = e.Ref
		}
		r.Events = append(r.Events, EventFigure{TS: e.At.Seconds(), Kind: string(e.Kind), Backend: ref, Text: eventText(e, ref)})
	}
	r.Timeline = timeline(in.Records, len(in.Backends), in.Config.Duration.D())
	r.Warnings = append(append([]string(nil), r.Warnings...), faultWarnings(r)...)
	return r
}

// FailureKey names a failed request's kind in FailuresByKind: "http_502"
// for an answer, else the transport kind (timeout, connection_refused,
// connection_reset, transport_error).
func FailureKey(rec record.Record) string {
	if rec.Kind == record.HTTPError {
		return fmt.Sprintf("http_%d", rec.Code)
	}
	return rec.Kind.String()
}

// eventText describes an event for people.
func eventText(e record.Event, ref string) string {
	switch e.Kind {
	case record.EventFault:
		return "fault on " + ref
	case record.EventRestore:
		return "restore " + ref
	case record.EventExit:
		return ref + " exited"
	}
	s := "LB: " + ref + " "
	if e.From != "" {
		s += e.From + "→"
	}
	s += e.To
	if e.Reason != "" {
		s += " (" + e.Reason + ")"
	}
	return s
}

// faultWarnings flags faults whose figures the run was too short to
// measure.
func faultWarnings(r Report) []string {
	var w []string
	for _, f := range r.Faults {
		switch {
		case f.RestoredAtS == nil:
			w = append(w, fmt.Sprintf("the %s fault on %s was not restored before the load ended", f.Kind, f.Backend))
		case *f.RestoredAtS > r.DurationS:
			w = append(w, fmt.Sprintf("the %s fault on %s was restored after the load ended (%.1fs): lengthen -duration or shorten -drain-period", f.Kind, f.Backend, *f.RestoredAtS))
		case f.RecoveryS == nil:
			w = append(w, fmt.Sprintf("%s served no request between its restore and the end of the load: lengthen -duration to measure recovery", f.Backend))
		}
	}
	return w
}
