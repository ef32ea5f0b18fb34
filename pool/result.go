package pool

import "time"

// CheckResult is what one active probe observed, in the pool's vocabulary.
// Whoever runs the probes (the server, adapting healthcheck's results)
// builds it and hands it to Backend.ObserveCheck; the checkers never decide
// state themselves, and the pool knows nothing of how a probe was made.
type CheckResult struct {
	// Outcome classifies the probe: ReasonCheckPassed, ReasonBackendDraining,
	// or one of the failure reasons (ReasonTimeout, ReasonConnectionRefused,
	// ReasonConnectionReset, ReasonStatusMismatch, ReasonCheckError,
	// ReasonTLSError).
	Outcome Reason
	// Code is the HTTP status (or gRPC serving status) the backend answered,
	// 0 when there was no answer. /status shows it.
	Code int
	// Detail is the result's specifics for humans, as the probe's source
	// rendered them ("503" for a status mismatch, an error's text); it
	// becomes the detail of a transition this result causes. "" for none.
	Detail string
	// Err is the transport error, if any, for /status (last_check.error).
	Err error
	// Latency is how long the probe took.
	Latency time.Duration
	// At is when the probe started.
	At time.Time
	// Decisive marks a result that already carries its thresholds: a
	// verdict another lb instance reached over its own run of probes
	// (fleet sharing). A decisive pass counts as healthy_threshold passes
	// in a row, a decisive failure as unhealthy_threshold failures.
	Decisive bool
	// By names the lb instance (fleet member) whose probes decided this
	// result; "" for this instance's own probe. A transition it causes
	// carries it (Transition.By), and /status shows it.
	By string
}

// Passed reports whether the probe counts as a pass.
func (r CheckResult) Passed() bool { return r.Outcome == ReasonCheckPassed }
