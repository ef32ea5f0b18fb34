package healthcheck

import "time"

// Outcome classifies what one probe observed. Values are stable snake_case
// words, spelled as the reasons operators see in logs, the status API and
// metric labels; whoever consumes a Result maps them to its own vocabulary
// (the server hands them to the pool as the pool reason of the same name).
type Outcome string

// The outcomes a probe can report.
const (
	// OutcomeCheckPassed: the probe passed.
	OutcomeCheckPassed Outcome = "check_passed"
	// OutcomeBackendDraining: the backend answered that it is shutting
	// down (HTTP 503 with JSON status "shutting_down" or "draining", gRPC
	// NOT_SERVING). The consumer should take it out at once.
	OutcomeBackendDraining Outcome = "backend_draining"
	// OutcomeTimeout: no complete answer within the check's timeout.
	OutcomeTimeout Outcome = "timeout"
	// OutcomeConnectionRefused: nothing listens on the port.
	OutcomeConnectionRefused Outcome = "connection_refused"
	// OutcomeConnectionReset: the connection was reset or closed before
	// the answer was complete.
	OutcomeConnectionReset Outcome = "connection_reset"
	// OutcomeStatusMismatch: an answer whose status does not pass;
	// Result.Code and Result.Status hold it.
	OutcomeStatusMismatch Outcome = "status_mismatch"
	// OutcomeCheckError: any other failure (DNS, a malformed answer, no
	// health service, a canceled probe); Result.Err holds it.
	OutcomeCheckError Outcome = "check_error"
	// OutcomeTLSError: the TLS handshake failed (a certificate that does
	// not verify, a peer that does not speak TLS, no common version);
	// Result.Err names the cause.
	OutcomeTLSError Outcome = "tls_error"
)

// Outcomes returns every Outcome a probe can report, in a new slice.
func Outcomes() []Outcome {
	return []Outcome{
		OutcomeCheckPassed, OutcomeBackendDraining, OutcomeTimeout, OutcomeConnectionRefused,
		OutcomeConnectionReset, OutcomeStatusMismatch, OutcomeCheckError, OutcomeTLSError,
	}
}

// Result is what one probe observed. A Checker builds it and hands it to
// its Reporter; it never decides what the result means for the backend.
type Result struct {
	// Outcome classifies the probe.
	Outcome Outcome
	// Code is the HTTP status, or the gRPC serving status number, the
	// backend answered; 0 when there was no answer.
	Code int
	// Status names the answer's status as its protocol does, for the
	// detail: "503" for HTTP, "NOT_SERVING" for gRPC; "" when there was no
	// answer.
	Status string
	// Err is the transport or protocol error, if any.
	Err error
	// Latency is how long the probe took.
	Latency time.Duration
	// At is when the probe started.
	At time.Time
}

// Passed reports whether the probe passed.
func (r Result) Passed() bool { return r.Outcome == OutcomeCheckPassed }

// Detail renders the result's specifics for humans, the detail of a
// transition it causes: the status for a status mismatch or a drain
// ("503", "NOT_SERVING"), the error text for a failure, "" otherwise. A
// gRPC status mismatch carries an error naming the status and the service
// ("grpc health: SERVICE_UNKNOWN for service \"x\""), which says more, so
// that is its detail.
func (r Result) Detail() string {
	switch {
	case r.Outcome == OutcomeStatusMismatch && r.Err != nil:
		return r.Err.Error()
	case r.Outcome == OutcomeStatusMismatch || r.Outcome == OutcomeBackendDraining:
		return r.Status
	case r.Err != nil:
		return r.Err.Error()
	}
	return ""
}
