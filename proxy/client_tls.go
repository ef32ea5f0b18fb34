package proxy

import (
	"context"
	"crypto/tls"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// backendTLSConfig clones c for the backend at address: ServerName
// defaults to the address's host, HTTP/1.1 is the only ALPN protocol
// offered, and TLS sessions are resumed (a client session cache of its
// own), so a reconnect costs an abbreviated handshake.
func backendTLSConfig(c *tls.Config, address string) *tls.Config {
	c = c.Clone()
	if c.ServerName == "" {
		if host, _, err := net.SplitHostPort(address); err == nil {
			c.ServerName = host
		}
	}
	if len(c.NextProtos) == 0 {
		c.NextProtos = []string{"http/1.1"}
	}
	if c.ClientSessionCache == nil {
		c.ClientSessionCache = tls.NewLRUClientSessionCache(0)
	}
	return c
}

// tlsDialer wraps dial (a plain TCP dialer returning *dialError) so the
// connection it returns has completed a TLS handshake with cfg, within
// the same budget as the connect (min of connect and the request's
// remaining time, measured from the start of the dial). A failed
// handshake closes the connection and is a *dialError: the request was
// never sent.
func tlsDialer(dial fasthttp.DialFuncWithTimeout, connect time.Duration, cfg *tls.Config) fasthttp.DialFuncWithTimeout {
	return func(addr string, timeout time.Duration) (net.Conn, error) {
		if timeout <= 0 || timeout > connect {
			timeout = connect
		}
		start := time.Now()
		raw, err := dial(addr, timeout)
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithDeadline(context.Background(), start.Add(timeout))
		defer cancel()
		conn := tls.Client(raw, cfg)
		if err := conn.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, &dialError{err: &tlsError{err: err}, timeout: ctx.Err() != nil}
		}
		return conn, nil
	}
}

// tlsError is a failed TLS handshake with a backend.
type tlsError struct{ err error }

func (e *tlsError) Error() string { return "tls handshake: " + e.err.Error() }
func (e *tlsError) Unwrap() error { return e.err }
