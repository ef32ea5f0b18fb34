// Package healthcheck runs active probes (HTTP GET, TCP connect and the gRPC
// Health Checking Protocol) against backends and reports what each probe
// observed.
//
// A Checker only observes: it probes, classifies what it saw into an
// Outcome (a Result), hands it to its Reporter, waits and repeats. It
// applies no thresholds and keeps no state machine, and it imports nothing
// of the pool: the server adapts each Result to the pool's vocabulary, and
// the pool counts consecutive passes and failures and moves backends
// between states.
// One Checker probes one backend; a Group runs many of them, each on its own
// phase of its interval, with no goroutine of their own between probes (see
// Group and phase.go).
//
// What a probe sends and how it is classified:
//
//   - http: "GET <Path> HTTP/1.1" with the Host header and "User-Agent:
//     lb-healthcheck", over one kept-alive connection per running checker
//     (see httpSession; Spec.FreshConnection and Probe use a new connection
//     each time, with "Connection: close"); at most MaxBodySize bytes of the
//     answer's body are read. Status in
//     ExpectedStatus: check_passed. 503 whose JSON body has "status"
//     "shutting_down" or "draining": backend_draining. Any other status:
//     status_mismatch with the code.
//   - tcp: connect, then close. Connected: check_passed.
//   - grpc: grpc.health.v1.Health/Check with GRPCService ("" is the whole
//     server), plaintext or TLS, Timeout per call, Host as :authority. Code
//     is the grpc_health_v1 serving status number, Status its name.
//     SERVING (1): check_passed. NOT_SERVING (2): backend_draining, with
//     the detail "NOT_SERVING". UNKNOWN (0), SERVICE_UNKNOWN (3, also the
//     NotFound answer to an unknown service): status_mismatch, with the
//     status named in Err. Other call errors: DeadlineExceeded is a
//     timeout; Unavailable is classified by the failed connection attempt
//     behind it (connection_refused, ...); anything else (Unimplemented, a
//     failed HTTP/2 handshake, ...) is check_error with the gRPC code in Err.
//   - transport failures: timeout (nothing complete within Timeout),
//     connection_refused, connection_reset (RST, or the connection closed
//     before the answer was complete), check_error (anything else: DNS,
//     malformed answer, ...).
//
// HTTP probes speak HTTP/1.1, over TLS when Spec.TLS is set (the pool's
// backend tls block). gRPC probes use
// TLS the same way (grpc-go's credentials.NewTLS). A failed handshake is
// tls_error with the cause in Err ("x509: certificate is valid for a.test,
// not b.test"); a handshake that times out or is reset is timeout or
// connection_reset as for any probe. A gRPC check keeps one HTTP/2 connection for the life of Run
// (gRPC is built for long-lived connections) but never reports from a stale
// one: a probe that finds it failed (TRANSIENT_FAILURE) or that timed out
// replaces it, so each outcome reflects the backend as it is now; see
// grpcSession.
package healthcheck
