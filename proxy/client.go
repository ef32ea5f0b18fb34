package proxy

import (
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// Defaults for zero ClientOptions fields. They match config's defaults.
const (
	// DefaultConnectTimeout is ClientOptions.ConnectTimeout's default.
	DefaultConnectTimeout = 2 * time.Second
	// DefaultIdleConnTimeout is ClientOptions.IdleConnTimeout's default.
	DefaultIdleConnTimeout = 10 * time.Second
	// DefaultMaxConns is ClientOptions.MaxConns's default.
	DefaultMaxConns = 1024
)

// backendReadBufferSize is the per-connection read buffer of a backend
// client; it also caps the size of a backend's response header block
// (a larger one is a 502).
const backendReadBufferSize = 8 << 10

// ClientOptions configure the connection pool to one backend. Zero fields
// take the defaults above.
type ClientOptions struct {
	// ConnectTimeout bounds dialing the backend (default 2s). A request's
	// remaining response timeout bounds it too, whichever is shorter.
	ConnectTimeout time.Duration
	// IdleConnTimeout closes kept-alive connections idle longer than this
	// (default 10s). Keep it below the backend's own keep-alive timeout so
	// the LB does not reuse a connection the backend is closing.
	IdleConnTimeout time.Duration
	// MaxConns caps the open connections to the backend (default 1024).
	// A request that finds them all busy does not wait: it gets 503 and is
	// not held against the backend.
	MaxConns int
}

// NewBackendClient returns the connection pool for one backend at address
// (host:port), configured for proxying: its own retries are off (the
// Handler retries on another backend instead), paths and header names are
// sent as received, no User-Agent is added, and dial errors are marked so
// that the Handler knows the request never reached the backend. Attach the
// result to the pool.Backend for address. The client is safe for
// concurrent use; call CloseIdleConnections on it when the backend is
// removed.
func NewBackendClient(address string, o ClientOptions) *fasthttp.HostClient {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.IdleConnTimeout <= 0 {
		o.IdleConnTimeout = DefaultIdleConnTimeout
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	return &fasthttp.HostClient{
		Addr:                          address,
		DialTimeout:                   dialer(o.ConnectTimeout),
		MaxConns:                      o.MaxConns,
		MaxIdleConnDuration:           o.IdleConnTimeout,
		MaxIdemponentCallAttempts:     1,
		RetryIfErr:                    noRetry,
		ReadBufferSize:                backendReadBufferSize,
		NoDefaultUserAgentHeader:      true,
		DisableHeaderNamesNormalizing: true,
		DisablePathNormalizing:        true,
	}
}

// noRetry turns HostClient's same-host retries off (belt and braces with
// MaxIdemponentCallAttempts = 1).
func noRetry(*fasthttp.Request, int, error) (resetTimeout, retry bool) { return false, false }

// dialer returns a DialTimeout func bounded by connect and by the timeout
// HostClient passes (the request's remaining time, 0 when unbounded). Its
// errors are *dialError, so the Handler can tell that a request never
// reached the backend.
func dialer(connect time.Duration) fasthttp.DialFuncWithTimeout {
	return func(addr string, timeout time.Duration) (net.Conn, error) {
		if timeout <= 0 || timeout > connect {
			timeout = connect
		}
		c, err := net.DialTimeout("tcp", addr, timeout)
		if err != nil {
			ne, ok := err.(net.Error)
			return nil, &dialError{err: err, timeout: ok && ne.Timeout()}
		}
		return c, nil
	}
}

// dialError is a failed connect: the request was never sent.
type dialError struct {
	err     error
	timeout bool
}

func (e *dialError) Error() string { return "dial backend: " + e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }
