package proxy

import (
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Defaults for zero ClientOptions fields. They equal config's
// DefaultConnectTimeout, DefaultIdleConnTimeout and
// DefaultMaxConnsPerBackend; server's TestRuntimeDefaultsMatchConfig
// holds them to it.
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
	// not held against the backend. Upgraded connections (WebSockets) are
	// capped separately at the same number, handshakes under way
	// included.
	MaxConns int
	// TLS, when not nil, makes every connection to the backend TLS: the
	// handshake runs in the dialer, bounded by ConnectTimeout like the
	// TCP connect, so a failed handshake (an unverifiable certificate, a
	// backend that does not speak TLS) is a connect failure: the request
	// never reached the backend and may be retried on another. The
	// config is cloned; set ServerName (else the host of the address is
	// used) and RootCAs on it. Nil (the default) is plain HTTP.
	TLS *tls.Config
}

// BackendClient is the connection pool to one backend: a
// fasthttp.HostClient configured for proxying, plus the set of connections
// its dialer opened that are still open, so that a draining backend can
// have its connections closed, idle ones first (CloseIdle) and, when the
// deregistration delay runs out, all of them (CloseAll).
//
// Attach a *BackendClient (see NewBackendClient) to each pool.Backend; the
// Handler forwards with it. It is safe for concurrent use: every method may
// be called from any goroutine, also while requests are forwarded. The
// connection set is touched only when a connection is dialed or closed,
// never per request, so the request path takes no lock and allocates
// nothing for it.
//
// The fasthttp.HostClient is made on the first request, not by
// NewBackendClient: a backend that only ever gets health checks (a pool
// of 10,000 at startup, a spare) costs its small BackendClient alone.
type BackendClient struct {
	hc      atomic.Pointer[fasthttp.HostClient] // nil until the first request (hostClient)
	address string
	opts    ClientOptions // defaults applied; what hostClient builds from

	mu    sync.Mutex
	conns map[*trackedConn]struct{} // open connections, nil while none was; guarded by mu

	// dial opens a raw connection (tunnels use it); maxConns caps the
	// tunnels, as MaxConns caps pooled connections: tunnelSlots holds a
	// place for each tunnel open or being set up (a handshake reserves
	// it before dialing).
	dial        fasthttp.DialFuncWithTimeout
	maxConns    int
	tunnelSlots slots
	// tunnels are the upgraded connections to the backend (upgrade.go),
	// streams its answers being relayed as they arrive (stream.go).
	tunnels, streams longSet
}

// NewBackendClient returns the connection pool for one backend at address
// (host:port), configured for proxying: its own retries are off (the
// Handler retries on another backend instead), paths and header names are
// sent as received, no User-Agent is added, dial errors are marked so that
// the Handler knows the request never reached the backend, and every
// connection it opens is tracked until it is closed. Attach the result to
// the pool.Backend for address. Call CloseIdle when the backend starts
// draining, and CloseAll when it is removed (or its deregistration delay
// runs out).
func NewBackendClient(address string, o ClientOptions) *BackendClient {
	return newBackendClient(address, o, nil)
}

// newBackendClient is NewBackendClient with the raw dial function
// replaced by dial when it is not nil (tests dial in memory). The
// connections dial returns are tracked like any other.
func newBackendClient(address string, o ClientOptions, dial fasthttp.DialFuncWithTimeout) *BackendClient {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.IdleConnTimeout <= 0 {
		o.IdleConnTimeout = DefaultIdleConnTimeout
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if dial == nil {
		dial = dialer(o.ConnectTimeout)
	}
	if o.TLS != nil {
		dial = tlsDialer(dial, o.ConnectTimeout, backendTLSConfig(o.TLS, address))
	}
	return &BackendClient{address: address, opts: o, dial: dial, maxConns: o.MaxConns}
}

// HostClient returns the underlying client, for sending requests (the
// Handler uses it) and reading its counters, making it if no request has
// yet. Do not change its fields: in particular, replacing DialTimeout or
// Dial would stop connection tracking.
func (c *BackendClient) HostClient() *fasthttp.HostClient {
	if hc := c.hc.Load(); hc != nil {
		return hc
	}
	return c.makeHostClient()
}

// makeHostClient makes the HostClient once: concurrent first requests
// share the one that wins.
func (c *BackendClient) makeHostClient() *fasthttp.HostClient {
	c.mu.Lock()
	defer c.mu.Unlock()
	if hc := c.hc.Load(); hc != nil {
		return hc
	}
	hc := &fasthttp.HostClient{
		Addr:                          c.address,
		DialTimeout:                   c.track(c.dial),
		MaxConns:                      c.opts.MaxConns,
		MaxIdleConnDuration:           c.opts.IdleConnTimeout,
		MaxIdemponentCallAttempts:     1,
		RetryIfErr:                    noRetry,
		ReadBufferSize:                backendReadBufferSize,
		NoDefaultUserAgentHeader:      true,
		DisableHeaderNamesNormalizing: true,
		DisablePathNormalizing:        true,
	}
	c.hc.Store(hc)
	return hc
}

// CloseIdle closes the backend's idle kept-alive connections now
// (HostClient.CloseIdleConnections); connections carrying a request are
// left alone and return to the idle pool when their request completes.
// Call it when the backend starts draining. Safe for concurrent use.
func (c *BackendClient) CloseIdle() {
	if hc := c.hc.Load(); hc != nil {
		hc.CloseIdleConnections()
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
