package server

import (
	"github.com/lbtrust/lb/healthcheck"
	"github.com/lbtrust/lb/metrics"
	"github.com/lbtrust/lb/pool"
)

// checkReporter is the healthcheck.Reporter of one backend: it turns each
// probe result into the pool's vocabulary (checkResult) and hands it to the
// backend's state machine and to the metrics. healthcheck knows nothing of
// the pool; this is where the two meet, as Traefik's load balancer
// implements the StatusSetter its health checker calls.
type checkReporter struct {
	backend *pool.Backend
	metrics *metrics.CheckObserver
	// fleet and fb, set in a fleet, take the result instead of the
	// backend: it counts toward this instance's published verdict, and
	// the pool gets the owners' combined verdict (fleet.go).
	fleet *fleetRuntime
	fb    *fleetBackend
}

// ObserveCheck reports one probe result to the metrics and the backend
// (or, in a fleet, to the fleet runtime).
func (r checkReporter) ObserveCheck(res healthcheck.Result) {
	pr := checkResult(res)
	r.metrics.ObserveCheck(pr)
	if r.fleet != nil {
		r.fleet.observe(r.fb, pr)
		return
	}
	r.backend.ObserveCheck(pr)
}

// discard is the Reporter of a checker built only to validate its spec.
type discard struct{}

// ObserveCheck drops the result.
func (discard) ObserveCheck(healthcheck.Result) {}

// checkResult is r in the pool's vocabulary: its outcome as the pool
// reason of the same name and its detail rendered by the checker, every
// other field as it is.
func checkResult(r healthcheck.Result) pool.CheckResult {
	return pool.CheckResult{
		Outcome: checkReason(r.Outcome),
		Code:    r.Code,
		Detail:  r.Detail(),
		Err:     r.Err,
		Latency: r.Latency,
		At:      r.At,
	}
}

// checkReason maps a probe outcome to the pool reason spelled the same
// (logs, /status, /events and metric labels show that word). An outcome
// the pool has no reason for is a check_error: a failure, counted toward
// unhealthy_threshold.
func checkReason(o healthcheck.Outcome) pool.Reason {
	switch o {
	case healthcheck.OutcomeCheckPassed:
		return pool.ReasonCheckPassed
	case healthcheck.OutcomeBackendDraining:
		return pool.ReasonBackendDraining
	case healthcheck.OutcomeTimeout:
		return pool.ReasonTimeout
	case healthcheck.OutcomeConnectionRefused:
		return pool.ReasonConnectionRefused
	case healthcheck.OutcomeConnectionReset:
		return pool.ReasonConnectionReset
	case healthcheck.OutcomeStatusMismatch:
		return pool.ReasonStatusMismatch
	case healthcheck.OutcomeTLSError:
		return pool.ReasonTLSError
	}
	return pool.ReasonCheckError
}
