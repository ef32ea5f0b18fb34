// Package healthcheck runs active probes (HTTP GET and TCP connect) against
// backends and reports what each probe observed.
//
// A Checker only observes: it probes, classifies the outcome into a
// pool.Reason (pool.CheckResult), hands it to its Reporter, waits and
// repeats. It applies no thresholds and keeps no state machine; the pool
// counts consecutive passes and failures and moves backends between states.
// One Checker probes one backend; a Group runs many of them concurrently, one
// goroutine each.
//
// What a probe sends and how it is classified:
//
//   - http: a fresh TCP connection per probe, "GET <Path> HTTP/1.1" with the
//     Host header, "User-Agent: lb-healthcheck" and "Connection: close"; at
//     most MaxBodySize bytes of the answer's body are read. Status in
//     ExpectedStatus: check_passed. 503 whose JSON body has "status"
//     "shutting_down" or "draining": backend_draining. Any other status:
//     status_mismatch with the code.
//   - tcp: connect, then close. Connected: check_passed.
//   - transport failures: timeout (nothing complete within Timeout),
//     connection_refused, connection_reset (RST, or the connection closed
//     before the answer was complete), check_error (anything else: DNS,
//     malformed answer, ...).
//
// Probes speak plain HTTP/1.1 (no TLS yet) and always open a new connection.
package healthcheck
