package pool

// Reason says why a transition happened or what a probe observed. Values are
// stable snake_case strings: they appear verbatim in logs, the status API and
// metric labels, so never build one from user input.
type Reason string

const (
	// ReasonNone is the reason of a backend that has not transitioned yet.
	ReasonNone Reason = ""

	// Outcomes of a probe that passed or asked for something.

	// ReasonInitialCheck: INITIAL -> HEALTHY on the first passing check.
	ReasonInitialCheck Reason = "initial_check"
	// ReasonCheckPassed: the probe passed (healthy_threshold in a row moves
	// UNHEALTHY or DRAINED back to HEALTHY).
	ReasonCheckPassed Reason = "check_passed"
	// ReasonBackendDraining: the backend answered that it is shutting down
	// (HTTP 503 with JSON status "shutting_down"/"draining", gRPC
	// NOT_SERVING). Moves it to DRAINING at once, no threshold.
	ReasonBackendDraining Reason = "backend_draining"

	// Outcomes of a probe that failed (count towards unhealthy_threshold).

	// ReasonTimeout: no complete answer within the check's timeout.
	ReasonTimeout Reason = "timeout"
	// ReasonConnectionRefused: nothing listens on the port (RST on connect).
	ReasonConnectionRefused Reason = "connection_refused"
	// ReasonConnectionReset: the connection was reset or closed mid-answer.
	ReasonConnectionReset Reason = "connection_reset"
	// ReasonStatusMismatch: an answer whose status is not expected_status;
	// CheckResult.Code holds the status.
	ReasonStatusMismatch Reason = "status_mismatch"
	// ReasonCheckError: any other probe error (DNS, protocol error, ...);
	// CheckResult.Err holds it.
	ReasonCheckError Reason = "check_error"
	// ReasonTLSError: the TLS handshake with the backend failed (its
	// certificate does not verify for the expected name or CA, it does
	// not speak TLS, no common version); CheckResult.Err names the
	// cause, such as "x509: certificate is valid for a.test, not b.test".
	ReasonTLSError Reason = "tls_error"

	// Transitions that are not a probe outcome.

	// ReasonDrainComplete: DRAINING -> DRAINED, the last in-flight request
	// finished.
	ReasonDrainComplete Reason = "drain_complete"
	// ReasonAdminDrain: an operator drained the backend.
	ReasonAdminDrain Reason = "admin_drain"
	// ReasonRemovedFromConfig: a reload removed the backend.
	ReasonRemovedFromConfig Reason = "removed_from_config"
	// ReasonAdminUndrain: an operator lifted a drain; the backend starts
	// over as INITIAL.
	ReasonAdminUndrain Reason = "admin_undrain"
	// ReasonRemovedFromDiscovery: the pool's discovery sources stopped
	// listing the backend (a DNS answer or etcd key without it).
	ReasonRemovedFromDiscovery Reason = "removed_from_discovery"
	// ReasonDiscovered: a discovery source listed again a backend that was
	// still draining after it left; it starts over as INITIAL.
	ReasonDiscovered Reason = "discovered"
	// ReasonAddedToConfig: a reload added back a backend that was still
	// draining after an earlier removal; it starts over as INITIAL.
	ReasonAddedToConfig Reason = "added_to_config"
	// ReasonDeregistrationTimeout: DRAINING -> DRAINED because the pool's
	// deregistration_delay ran out; the requests still in flight are
	// cancelled (Transition.InFlight says how many).
	ReasonDeregistrationTimeout Reason = "deregistration_timeout"
	// ReasonSilent: the backend's oldest unanswered request is older than
	// the pool's silent_after while other backends answer; it is skipped
	// until it answers (ReasonAnswered) or a probe passes.
	ReasonSilent Reason = "silent"
	// ReasonAnswered: a silent backend answered a request again.
	ReasonAnswered Reason = "answered"
	// ReasonPassiveEjection: the request path saw consecutive failures;
	// the detail says how many and for how long it is ejected.
	ReasonPassiveEjection Reason = "passive_ejection"
)

// isRemoval reports whether r takes a backend out for good: a reload or
// the discovery sources dropped it.
func isRemoval(r Reason) bool {
	return r == ReasonRemovedFromConfig || r == ReasonRemovedFromDiscovery
}
