package healthcheck

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"syscall"
)

// probeTLSConfig clones c for probes of target: ServerName defaults to
// the target's host, and protos is the ALPN offer. Nil stays nil.
func probeTLSConfig(c *tls.Config, target string, protos ...string) *tls.Config {
	if c == nil {
		return nil
	}
	c = c.Clone()
	if c.ServerName == "" {
		if host, _, err := net.SplitHostPort(target); err == nil {
			c.ServerName = host
		}
	}
	c.NextProtos = protos
	return c
}

// handshakeError is a failed TLS handshake of a probe.
type handshakeError struct{ err error }

func (e *handshakeError) Error() string { return "tls handshake: " + e.err.Error() }
func (e *handshakeError) Unwrap() error { return e.err }

// clientHandshake runs the TLS handshake on conn bounded by ctx. Its
// error is a *handshakeError.
func clientHandshake(ctx context.Context, conn net.Conn, cfg *tls.Config) (*tls.Conn, error) {
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, &handshakeError{err: err}
	}
	return tc, nil
}

// classifyHandshake turns a failed handshake into a probe outcome: a
// deadline is a timeout and a reset a connection_reset, as for any
// probe; anything else (a certificate that does not verify, a peer that
// does not speak TLS, no common version or ALPN protocol) is tls_error,
// with the cause in Err.
func classifyHandshake(err error) Result {
	switch {
	case isTimeout(err):
		return Result{Outcome: OutcomeTimeout, Err: err}
	case errors.Is(err, syscall.ECONNRESET):
		return Result{Outcome: OutcomeConnectionReset, Err: err}
	}
	return Result{Outcome: OutcomeTLSError, Err: err}
}

// isHandshakeError reports whether err is a failed probe handshake.
func isHandshakeError(err error) bool {
	var he *handshakeError
	return errors.As(err, &he)
}
