package pool

import (
	"strconv"
	"time"
)

// CheckResult is what one active probe observed. Checkers build it and hand
// it to Backend.ObserveCheck; they never decide state themselves.
type CheckResult struct {
	// Outcome classifies the probe: ReasonCheckPassed, ReasonBackendDraining,
	// or one of the failure reasons (ReasonTimeout, ReasonConnectionRefused,
	// ReasonConnectionReset, ReasonStatusMismatch, ReasonCheckError,
	// ReasonTLSError).
	Outcome Reason
	// Code is the HTTP status (or gRPC serving status) the backend answered,
	// 0 when there was no answer.
	Code int
	// Err is the transport error, if any, for the log line and /status.
	Err error
	// Latency is how long the probe took.
	Latency time.Duration
	// At is when the probe started.
	At time.Time
}

// Passed reports whether the probe counts as a pass.
func (r CheckResult) Passed() bool { return r.Outcome == ReasonCheckPassed }

// Detail renders the result's specifics for humans: "503" for a status
// mismatch, the error text for a transport failure, "" otherwise.
func (r CheckResult) Detail() string {
	switch {
	case r.Outcome == ReasonStatusMismatch && r.Err != nil:
		// gRPC: the error names the serving status ("SERVICE_UNKNOWN").
		return r.Err.Error()
	case r.Outcome == ReasonStatusMismatch || (r.Code != 0 && r.Outcome == ReasonBackendDraining):
		return strconv.Itoa(r.Code)
	case r.Err != nil:
		return r.Err.Error()
	}
	return ""
}
