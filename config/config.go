package config

import (
	"net/netip"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Config is a whole decoded configuration file.
type Config struct {
	// Admin is the admin listener (/healthz, /readyz, /status). It is nil
	// when the file has no admin block, which disables the admin listener.
	Admin *Admin

	// Listeners are the proxy listeners, in file order. There is at least one.
	Listeners []*Listener

	// Pools are the backend pools, in file order. Names are unique.
	Pools []*Pool

	// Fleet is the fleet block: health checks shared with other lb
	// instances through etcd. nil without one (this instance probes every
	// backend itself).
	Fleet *Fleet
}

// Pool returns the pool called name, or nil if there is none.
func (c *Config) Pool(name string) *Pool {
	for _, p := range c.Pools {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Listener returns the listener called name, or nil if there is none.
func (c *Config) Listener(name string) *Listener {
	for _, l := range c.Listeners {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// Defaults for an admin block: the LB's own shutdown sequence. They also
// apply when there is no admin block; see Config.ShutdownTiming.
const (
	DefaultShutdownDelay = time.Duration(0)
	DefaultGracePeriod   = 30 * time.Second
)

// Admin is the "admin" block: where the LB serves its own /healthz,
// /readyz and /status endpoints, and how it shuts down.
//
// On SIGTERM the LB answers /readyz with 503 at once, keeps its listeners
// serving for the shutdown delay (see EffectiveShutdownDelay) so the tier
// in front notices, then stops accepting and gives in-flight requests
// GracePeriod to finish.
type Admin struct {
	// Address is the host:port to listen on ("address", required). The
	// port may be 0 to let the kernel pick one.
	Address string

	// ShutdownDelay is how long the listeners keep serving after SIGTERM
	// while /readyz already answers 503, so the load balancer in front
	// stops sending ("shutdown_delay", default 0s = stop accepting at once,
	// at least 0). A file that sets both it and upstream_probe is an
	// error, so when UpstreamProbe is set this is 0 and unused: read the
	// delay with EffectiveShutdownDelay rather than from here.
	ShutdownDelay time.Duration

	// GracePeriod is how long in-flight requests may take to finish once
	// the listeners have stopped accepting ("grace_period", default 30s,
	// longer than zero). Requests still running then are cut off.
	GracePeriod time.Duration

	// UpstreamProbe is the "upstream_probe" block, or nil when there is
	// none. When set, it derives the shutdown delay from how the tier in
	// front probes /readyz; see EffectiveShutdownDelay.
	UpstreamProbe *UpstreamProbe

	// Token is the bearer token the admin's mutating endpoints (drain,
	// undrain, reload) require ("token", or the content of "token_file"
	// read at load with trailing whitespace trimmed; not both; default
	// none = no token needed). Printing it shows [redacted].
	Token Secret

	// EventBuffer is how many recent events /events keeps
	// ("event_buffer", default 1000, 1..1000000).
	EventBuffer int

	// Pprof serves Go's runtime profiles (net/http/pprof's endpoints:
	// /debug/pprof/profile?seconds=N for CPU, /debug/pprof/heap, ...) on
	// the admin listener ("pprof", default false: a profile costs CPU
	// while it runs and shows the program's internals, so it is opt-in).
	// With a token set they need it, as the mutating endpoints do.
	Pprof bool

	// ReadyPools says which pools must have a healthy backend for /readyz
	// to answer 200 ("ready_pools": ReadyPoolsEvery, the default,
	// ReadyPoolsAny or ReadyPoolsNone). Listeners that are not bound and
	// a shutdown fail /readyz whatever it says. A reload applies a change
	// at once.
	ReadyPools string

	// DeclRange is where the block is declared.
	DeclRange hcl.Range
}

// UpstreamProbe is the "upstream_probe" block inside admin: how the load
// balancer in front of this one probes its /readyz. It takes
// Interval × UnhealthyThreshold for that prober to see the 503s, so the
// shutdown delay it gives is that plus one Interval of margin, for the
// probe that was already in flight when SIGTERM arrived.
type UpstreamProbe struct {
	// Interval is the front prober's time between probes ("interval",
	// required, longer than zero).
	Interval time.Duration

	// UnhealthyThreshold is how many failed probes in a row the front
	// prober needs to take this LB out ("unhealthy_threshold", required,
	// at least 1).
	UnhealthyThreshold int

	// DeclRange is where the block is declared.
	DeclRange hcl.Range
}

// Defaults for a listener block. The limits' reasons (and what HAProxy
// and NGINX do) are in the Listener field docs.
const (
	DefaultReadTimeout        = 30 * time.Second
	DefaultWriteTimeout       = 30 * time.Second
	DefaultIdleTimeout        = 60 * time.Second
	DefaultMaxRequestBodySize = 10 << 20 // 10 MiB, in bytes

	// DefaultReadHeaderTimeout is read_header_timeout's default, or
	// read_timeout when that is written shorter.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultMaxHeaderBytes is max_header_bytes's default (16 KiB, in
	// bytes); MinMaxHeaderBytes and MaxMaxHeaderBytes bound it.
	DefaultMaxHeaderBytes = 16 << 10
	MinMaxHeaderBytes     = 1 << 10
	MaxMaxHeaderBytes     = 1 << 20
	// DefaultMaxHeaderCount is max_header_count's default (header
	// fields); MaxMaxHeaderCount bounds it.
	DefaultMaxHeaderCount = 100
	MaxMaxHeaderCount     = 10000
	// DefaultMaxURILength is max_uri_length's default (bytes of the
	// request target); it may not exceed max_header_bytes.
	DefaultMaxURILength = 8 << 10
	// DefaultMaxConnections is max_connections's default (open client
	// connections per listener); MaxMaxConnections bounds it.
	DefaultMaxConnections = 10000
	MaxMaxConnections     = 1000000
	// DefaultRequestBufferSize is request_buffer_size's default (16 KiB,
	// in bytes), or max_request_body_size when that is smaller.
	// MinRequestBufferSize is the smallest value that may be written;
	// the largest is max_request_body_size.
	DefaultRequestBufferSize = 16 << 10
	MinRequestBufferSize     = 1 << 10
)

// Listener is a `listener "NAME"` block: one proxy server.
type Listener struct {
	// Name is the block label; unique among listeners.
	Name string

	// Address is the host:port to listen on ("address", required). An empty
	// host (":8080") listens on every interface; port 0 lets the kernel pick.
	Address string

	// Pool is the default pool ("pool", required): it takes every request
	// that no route matches. It names a declared pool.
	Pool string

	// Routes are the "route" blocks, in file order; the first match wins.
	Routes []*Route

	// ReadTimeout bounds reading a full request, headers and body, from
	// its first byte ("read_timeout", default 30s). It caps
	// ReadHeaderTimeout and BodyReadTimeout: whichever runs out first
	// ends the request with 408 and closes the connection.
	ReadTimeout time.Duration

	// ReadHeaderTimeout bounds reading the request line and header, from
	// the request's first byte (on a new connection, from its accept):
	// the slowloris defence ("read_header_timeout", default 10s, or
	// read_timeout when that is shorter; at most read_timeout). As
	// HAProxy's "timeout http-request"; NGINX's client_header_timeout is
	// 60s.
	ReadHeaderTimeout time.Duration

	// BodyReadTimeout bounds reading the request body, from the end of
	// its header: the slow-POST defence ("body_read_timeout", default
	// read_timeout; at most read_timeout, which still caps header and
	// body together). NGINX's client_body_timeout (60s) is between two
	// reads instead.
	BodyReadTimeout time.Duration

	// WriteTimeout bounds writing the response to the client
	// ("write_timeout", default 30s).
	WriteTimeout time.Duration

	// IdleTimeout is how long a kept-alive client connection may sit idle
	// between requests ("idle_timeout", default 60s), and how long an
	// upgraded connection (a WebSocket) may pass no byte either way.
	IdleTimeout time.Duration

	// MaxRequestBodySize is the largest request body accepted, in bytes
	// ("max_request_body_size", default 10485760 = 10 MiB, at least 1).
	// A declared Content-Length over it is refused (413) before any of
	// the body is read; a chunked body as soon as it passes the limit.
	MaxRequestBodySize int

	// RequestBufferSize is how much of a request body, in bytes, the LB
	// reads whole before forwarding it ("request_buffer_size", default
	// 16384 = 16 KiB, or max_request_body_size when that is smaller;
	// written, 1024..max_request_body_size). A body up to this size is
	// read completely first, so it can be replayed and stays retryable;
	// a larger one, and a chunked one that grows past it, is streamed to
	// the backend as it arrives and cannot be replayed once sending has
	// begun. Each request being read may hold this much memory. NGINX's
	// client_body_buffer_size is 16 KiB on 64-bit platforms, as is
	// HAProxy's tune.bufsize.
	RequestBufferSize int

	// MaxHeaderBytes bounds the request line plus header, in bytes
	// ("max_header_bytes", default 16384 = 16 KiB, 1024..1048576); more
	// is answered 431. HAProxy's tune.bufsize is 16 KiB; NGINX allows up
	// to 4 x 8 KiB (large_client_header_buffers). It is also the size of
	// each connection's read buffer.
	MaxHeaderBytes int

	// MaxHeaderCount bounds the number of header fields
	// ("max_header_count", default 100, 1..10000); more is answered 431.
	// HAProxy's tune.http.maxhdr is 101.
	MaxHeaderCount int

	// MaxURILength bounds the request target, in bytes ("max_uri_length",
	// default 8192 = 8 KiB, 1..max_header_bytes); longer is answered 414.
	// NGINX refuses a request line over 8 KiB with 414.
	MaxURILength int

	// MaxConnections bounds the client connections the listener holds
	// open at once ("max_connections", default 10000, 1..1000000). One
	// more is answered 503 and closed at once, never queued. Each
	// connection uses a file descriptor (and a request forwarded, one
	// more to a backend): keep it below the process's RLIMIT_NOFILE.
	// HAProxy's default maxconn is derived from that limit; NGINX's
	// worker_connections is 512 per worker.
	MaxConnections int

	// TrustedProxies are the direct peers whose X-Forwarded-For,
	// X-Forwarded-Proto and X-Forwarded-Host headers are kept
	// ("trusted_proxies", a list of CIDRs or single IPs, default empty:
	// trust nobody). Each prefix is masked; a single IP is a /32 or /128.
	TrustedProxies []netip.Prefix

	// TLS is the "tls" block: the listener terminates TLS with these
	// certificates. Nil for a plain HTTP listener. See ListenerTLS.
	TLS *ListenerTLS

	// Redirect is set by "redirect_https = true" on a plain listener: it
	// answers every request with 308 to the same host and target over
	// https, and forwards nothing. Nil when the listener proxies. See
	// HTTPSRedirect.
	Redirect *HTTPSRedirect

	// AccessLog is the "access_log" block; nil writes no access log. See
	// AccessLog.
	AccessLog *AccessLog

	// DeclRange is where the block is declared.
	DeclRange hcl.Range
}

// Route is a "route" block inside a listener. A request matches when
// every condition that is set matches; at least one is set.
type Route struct {
	// Host matches the request's Host ("host", optional). It is kept as
	// written; compare it case-insensitively.
	Host string

	// PathPrefix matches the start of the request path ("path_prefix",
	// optional). It starts with "/".
	PathPrefix string

	// Pool takes the matching requests ("pool", required). It names a
	// declared pool.
	Pool string

	// DeclRange is where the block is declared.
	DeclRange hcl.Range
}

// Balancing algorithms, the valid values of a pool's "algorithm".
const (
	AlgorithmRoundRobin         = "round_robin"
	AlgorithmWeightedRoundRobin = "weighted_round_robin"
	AlgorithmLeastConn          = "least_conn"
	AlgorithmRandom             = "random"
	AlgorithmPowerOfTwo         = "power_of_two"
	AlgorithmConsistentHash     = "consistent_hash"
)

// Algorithms returns the valid values of a pool's "algorithm", in a fresh
// slice the caller may keep.
func Algorithms() []string {
	return []string{
		AlgorithmRoundRobin,
		AlgorithmWeightedRoundRobin,
		AlgorithmLeastConn,
		AlgorithmRandom,
		AlgorithmPowerOfTwo,
		AlgorithmConsistentHash,
	}
}

// Defaults for a pool block.
const (
	DefaultAlgorithm = AlgorithmRoundRobin

	// DefaultHeaderTimeout is header_timeout's default when the file
	// writes no response_timeout; with one, header_timeout defaults to
	// that response_timeout instead (see Pool.HeaderTimeout).
	DefaultHeaderTimeout = 30 * time.Second
	// DefaultBodyIdleTimeout is body_idle_timeout's default, as NGINX's
	// proxy_read_timeout.
	DefaultBodyIdleTimeout = 60 * time.Second
	// DefaultResponseTimeout is response_timeout's default: 0, no limit
	// on the whole answer, so a long stream is not cut.
	DefaultResponseTimeout = time.Duration(0)

	DefaultConnectTimeout      = 2 * time.Second
	DefaultIdleConnTimeout     = 10 * time.Second
	DefaultMaxConnsPerBackend  = 1024
	DefaultDeregistrationDelay = 300 * time.Second // the AWS ALB default
)

// Pool is a `pool "NAME"` block: a set of interchangeable backends.
type Pool struct {
	// Name is the block label; unique among pools.
	Name string

	// Algorithm picks a backend for each request ("algorithm", default
	// "round_robin"); one of Algorithms().
	Algorithm string

	// Hash is what consistent_hash hashes (the "hash" block; defaults
	// without one). See affinity.go.
	Hash Hash

	// Sticky is the "sticky" block (session cookies), nil without one.
	// See affinity.go.
	Sticky *Sticky

	// HealthCheck is the "health_check" block; every default applies when
	// the block is absent.
	HealthCheck HealthCheck

	// Backends are the "backend" blocks, in file order. There is at least
	// one unless the pool has a discovery block, and no address appears
	// twice.
	Backends []*Backend

	// Discovery are the pool's `discovery "dns"` and `discovery "etcd"`
	// blocks, in file order (none by default): registries its backends
	// come from, beside its backend blocks. No two read the same source
	// (the same record type and name, or the same prefix of the same etcd
	// endpoints).
	Discovery []*Discovery

	// HeaderTimeout bounds the wait for a backend's response header:
	// from the start of the client request at the LB until the header
	// has arrived, every try (retry) included ("header_timeout", longer
	// than zero; default 30s, or response_timeout when the file writes
	// that and not header_timeout, so a file written before
	// header_timeout existed keeps its meaning). Written, it must not be
	// longer than a written response_timeout. Past it the client gets
	// 504. Each try is also bounded by Retry.PerTryTimeout when that is
	// written.
	HeaderTimeout time.Duration

	// BodyIdleTimeout is the longest a backend may go without sending a
	// byte of the response body once its header has arrived
	// ("body_idle_timeout", default 60s as NGINX's proxy_read_timeout,
	// longer than zero). It bounds the gap between two reads, not the
	// whole body: a Server-Sent Events stream that sends a heartbeat more
	// often than this lives for hours.
	BodyIdleTimeout time.Duration

	// ResponseTimeout bounds the whole backend answer, from sending the
	// request to the last byte of the response body
	// ("response_timeout", default 0 = no limit; written, longer than
	// zero). A streamed answer (Server-Sent Events, a large download)
	// that takes longer than this is cut, so leave it unset for streaming
	// pools: HeaderTimeout and BodyIdleTimeout still bound a backend
	// that stalls.
	ResponseTimeout time.Duration

	// ConnectTimeout bounds dialing a backend ("connect_timeout",
	// default 2s).
	ConnectTimeout time.Duration

	// IdleConnTimeout closes kept-alive backend connections that have been
	// idle longer than this ("idle_conn_timeout", default 10s). Keep it
	// below the backends' own keep-alive timeout, so the LB never reuses a
	// connection the backend is closing.
	IdleConnTimeout time.Duration

	// MaxConnsPerBackend caps the open connections to one backend
	// ("max_conns_per_backend", default 1024, at least 1).
	MaxConnsPerBackend int

	// DeregistrationDelay is how long a DRAINING backend's in-flight
	// requests may keep running before they are cancelled
	// ("deregistration_delay", default 300s as on an AWS ALB, at least 0).
	// A backend leaves DRAINING earlier when its last request ends; "0s"
	// cancels its requests at once.
	DeregistrationDelay time.Duration

	// Retry is the "retry" block: which failed requests are sent again to
	// another backend. Every default applies when the block is absent, so
	// a pool retries a connect failure or reset once by default.
	Retry Retry

	// Passive is the "passive" block: ejection of backends that fail
	// real traffic. Every default applies when the block is absent, so
	// passive ejection is on by default.
	Passive Passive

	// WhenAllUnhealthy is what the pool does when none of its backends
	// is HEALTHY ("when_all_unhealthy", default "fail_open" as on an AWS
	// ALB); one of WhenAllUnhealthyModes(). "fail_open" routes across
	// every non-DRAINING backend, since a wrong health check (a shared
	// dependency down, a bad path) is likelier than every backend being
	// dead at once, and an answer from a doubtful backend beats a sure
	// 503. "fail_closed" answers 503 instead and never sends to a
	// backend that failed its checks. DRAINING backends get no new
	// requests in either mode.
	WhenAllUnhealthy string

	// PanicThreshold is the percentage of the pool's backends that must
	// be HEALTHY for it to route to HEALTHY ones only ("panic_threshold",
	// 0..100, default 50 as in Envoy). Below it the pool is in panic and
	// routes across every non-DRAINING backend, since a few survivors
	// would drown under the whole load and fail too. 0 turns panic
	// routing off. With when_all_unhealthy = "fail_closed" it defaults
	// to 0 and writing a non-zero value is an error, since that mode
	// promises never to send to an unhealthy backend; the field then
	// holds the value in force and needs no second rule.
	PanicThreshold int

	// SlowStart is how long a backend that has just become HEALTHY takes
	// to reach its full share of new requests ("slow_start", default 0s =
	// off, at least 0). Its share ramps linearly from
	// SlowStartInitialPercent to 100% over the window, for every
	// algorithm, so a cold backend (empty caches, JIT not warm) and one
	// with zero connections under least_conn are not flooded. It is off
	// by default, as on an AWS ALB and in HAProxy: most backends are
	// ready when their checks pass, and a ramp keeps a recovered backend
	// from carrying its share for the whole window.
	SlowStart time.Duration

	// SilentAfter is how long a backend's oldest in-flight request may go
	// unanswered, while the backend answers nothing and others do, before
	// it gets no new requests ("silent_after", default "auto"). It is not
	// an ejection: the backend is used again the moment it answers.
	//
	// SilentAfterAuto (0, written "auto") derives the time at run time
	// from the pool's recent latency: SilentAfterAutoMultiplier × its
	// p99, never less than SilentAfterFloor (also while p99 is unknown).
	// SilentAfterOff (negative, written "off") turns detection off. Any
	// other value is a fixed time written as a duration, such as
	// "200ms". The default adapts, so a stall is steered around within a
	// few tail latencies on a fast API without flagging a slow one; a
	// fixed value is either too slow for the first or too eager for the
	// second.
	SilentAfter time.Duration

	// TLS is the "tls" block: the pool's backends are spoken to over TLS,
	// by traffic and by HTTP and gRPC health checks alike. Nil for plain
	// HTTP. See BackendTLS.
	TLS *BackendTLS

	// DeclRange is where the block is declared.
	DeclRange hcl.Range
}

// Values of a pool's "when_all_unhealthy".
const (
	WhenAllUnhealthyFailOpen   = "fail_open"
	WhenAllUnhealthyFailClosed = "fail_closed"
)

// WhenAllUnhealthyModes returns the valid values of a pool's
// "when_all_unhealthy", in a fresh slice the caller may keep.
func WhenAllUnhealthyModes() []string {
	return []string{WhenAllUnhealthyFailOpen, WhenAllUnhealthyFailClosed}
}

// Defaults and fixed values of a pool's request-path settings; the Pool
// fields say why each default is what it is.
const (
	DefaultWhenAllUnhealthy = WhenAllUnhealthyFailOpen
	DefaultPanicThreshold   = 50 // percent HEALTHY, as in Envoy
	DefaultSlowStart        = time.Duration(0)
	DefaultSilentAfter      = SilentAfterAuto

	// SlowStartInitialPercent is the share of its full weight, in
	// percent, that a backend gets when it has just become HEALTHY; it
	// ramps linearly to 100% over slow_start. It is fixed, not an
	// attribute.
	SlowStartInitialPercent = 10

	// SilentAfterAuto is SilentAfter's value for "auto": derived at run
	// time from the pool's latency.
	SilentAfterAuto = time.Duration(0)

	// SilentAfterOff is SilentAfter's value for "off": no silent
	// detection. Any negative value means off; this is the one decoding
	// gives.
	SilentAfterOff = time.Duration(-1)

	// SilentAfterAutoMultiplier times the pool's recent p99 latency is
	// the "auto" silent_after: far enough into the tail that a healthy
	// backend's slow answers are not mistaken for silence.
	SilentAfterAutoMultiplier = 8

	// SilentAfterFloor is the shortest "auto" silent_after, so a pool
	// whose p99 is a millisecond does not skip a backend for a GC pause,
	// a scheduling stall or one lost TCP segment: Linux retransmits after
	// at least 200ms (TCP_RTO_MIN), and a 1-hour chaos soak on a loaded
	// 2-CPU machine saw healthy backends answer nothing for up to 107ms
	// while a neighbour process started (with a floor of 25ms that made
	// 12 false "silent" verdicts an hour).
	SilentAfterFloor = 300 * time.Millisecond
)

// Retry conditions, the valid values in a retry block's "on" list. A
// request that never reached a backend (connect_failure) is always safe
// to send elsewhere; after the others the proxy retries only requests
// that are safe to replay.
const (
	// RetryOnConnectFailure: no connection could be made (refused,
	// unreachable, connect_timeout).
	RetryOnConnectFailure = "connect_failure"

	// RetryOnReset: the connection was reset or closed before a response
	// arrived, including a kept-alive connection the backend had closed.
	RetryOnReset = "reset"

	// RetryOnTimeout: the try took longer than the per-try timeout.
	RetryOnTimeout = "timeout"

	// RetryOn502, RetryOn503 and RetryOn504: the backend answered with
	// that status.
	RetryOn502 = "502"
	RetryOn503 = "503"
	RetryOn504 = "504"

	// RetryOn5xx: the backend answered with any status from 500 to 599
	// (502, 503 and 504 included).
	RetryOn5xx = "5xx"
)

// RetryConditions returns the valid values in a retry block's "on" list,
// in a fresh slice the caller may keep.
func RetryConditions() []string {
	return []string{
		RetryOnConnectFailure,
		RetryOnReset,
		RetryOnTimeout,
		RetryOn502,
		RetryOn503,
		RetryOn504,
		RetryOn5xx,
	}
}

// DefaultRetryConditions returns the default of a retry block's "on",
// connect_failure and reset, in a fresh slice the caller may keep.
func DefaultRetryConditions() []string {
	return []string{RetryOnConnectFailure, RetryOnReset}
}

// Defaults, bounds and fixed values of a retry block.
const (
	DefaultRetryAttempts      = 1
	MaxRetryAttempts          = 10
	DefaultPerTryTimeout      = time.Duration(0) // the pool's header_timeout
	DefaultRetryBudgetPercent = 20               // as Envoy's retry budget

	// RetryBudgetMinPerSecond is how many retries per second a pool may
	// always make on top of budget_percent, so a pool with little traffic
	// can still retry. It is fixed, not an attribute.
	RetryBudgetMinPerSecond = 3
)

// Retry is a pool's "retry" block: when a failed request is sent again,
// each time to another backend (never the same one while another is
// eligible). Whatever On says, once a request may have been processed
// only idempotent methods and requests with an Idempotency-Key header are
// retried.
type Retry struct {
	// Attempts is how many extra tries may follow the first ("attempts",
	// 0..MaxRetryAttempts, default 1); 0 turns retries off. One retry
	// steps around a single dead or restarting backend, the common case,
	// while a request costs at most twice its load; more multiplies the
	// load on a pool that is already failing.
	Attempts int

	// PerTryTimeout bounds one try at a backend, until its response
	// header has arrived ("per_try_timeout", default 0 = the pool's
	// header_timeout; when written, longer than zero and at most
	// header_timeout, written or defaulted). 0 stays 0 here: the proxy
	// bounds such a try by the header timeout. Set it below
	// header_timeout, with "timeout" in On, to step away from a backend
	// that hangs before answering. Once the header has arrived the try is over: the body
	// is bounded by the pool's body_idle_timeout and response_timeout.
	PerTryTimeout time.Duration

	// On lists the failures that are retried ("on", default
	// ["connect_failure", "reset"]), each one of RetryConditions() and
	// none twice. The default retries only transport failures, where the
	// backend produced no answer; timeouts and 5xx answers often mean an
	// overloaded backend, where retrying adds load, so they are opt-in.
	On []string

	// BudgetPercent caps retries at this percentage of the pool's
	// requests, plus RetryBudgetMinPerSecond ("budget_percent", 0..100,
	// default 20 as Envoy's retry budget). When it is spent, the failure
	// goes back to the client as it is, so a pool where every backend
	// fails sees no retry storm. 0 leaves only the fixed per-second
	// allowance.
	BudgetPercent int

	// DeclRange is where the block is declared; the zero Range when the
	// pool has no retry block.
	DeclRange hcl.Range
}

// Defaults of a passive block.
const (
	DefaultPassiveEnabled      = true
	DefaultConsecutiveFailures = 5 // as Envoy's consecutive_5xx
	DefaultConsecutiveTimeouts = 2
	DefaultBaseEjection        = 10 * time.Second
	DefaultMaxEjection         = 300 * time.Second // as Envoy's max_ejection_time
	DefaultMaxEjectedPercent   = 50
)

// Passive is a pool's "passive" block: outlier detection on real
// traffic. A backend that fails too many requests in a row is ejected:
// it gets no new requests (reason passive_ejection) for BaseEjection ×
// the number of times it has been ejected, capped at MaxEjection, while
// its active checks keep running; it returns when that time has passed
// and its checks pass. Local saturation (no free connection, the client
// cancelling) is never held against a backend.
//
// It is on by default, as Envoy's outlier detection is once configured:
// active checks see a failure only after interval × threshold, and they
// miss a backend whose health endpoint says ok while it fails traffic;
// real requests see both at once.
type Passive struct {
	// Enabled turns passive ejection on ("enabled", default true). The
	// other fields are validated either way.
	Enabled bool

	// ConsecutiveFailures is how many 5xx answers or transport errors in
	// a row eject a backend ("consecutive_failures", default 5 as in
	// Envoy, at least 1): enough that a few unlucky requests do not, few
	// enough that a broken backend fails little traffic.
	ConsecutiveFailures int

	// ConsecutiveTimeouts is how many per-try timeouts in a row eject a
	// backend ("consecutive_timeouts", default 2, at least 1). It is
	// lower than ConsecutiveFailures because each timeout has already
	// cost a client a whole per-try timeout.
	ConsecutiveTimeouts int

	// BaseEjection is how long a first ejection lasts; the n-th lasts n
	// times as long ("base_ejection", default 10s, longer than zero).
	// Shorter than Envoy's 30s because a backend also has to pass its
	// active checks to come back, so a short ejection does not return a
	// broken one.
	BaseEjection time.Duration

	// MaxEjection caps how long one ejection lasts ("max_ejection",
	// default 300s as Envoy's max_ejection_time, at least
	// BaseEjection).
	MaxEjection time.Duration

	// MaxEjectedPercent is the largest share of the pool's backends,
	// in percent, that passive ejection and silent detection may hold
	// out at once ("max_ejected_percent", 0..100, default 50, rounded
	// down; 0 holds none out). As Envoy's cap, it counts outlier
	// hold-outs only: backends out with reason passive_ejection or
	// silent whose active checks have not also failed; backends down by
	// their checks, draining or drained do not count, and the share is
	// taken of the backends not being removed by a reload or discovery.
	// A backend whose ejection is refused stays in but sheds nine in ten
	// of its requests and has its 5xx to replayable requests retried
	// elsewhere (pool/holdout.go). Past half, failures are more likely
	// the traffic's or a shared dependency's than the backends', and
	// the rest would drown under the whole load.
	MaxEjectedPercent int

	// DeclRange is where the block is declared; the zero Range when the
	// pool has no passive block.
	DeclRange hcl.Range
}

// Health check types, the valid values of a health_check's "type".
const (
	HealthCheckHTTP = "http"
	HealthCheckTCP  = "tcp"
	HealthCheckGRPC = "grpc"
)

// HealthCheckTypes returns the valid values of a health_check's "type", in
// a fresh slice the caller may keep.
func HealthCheckTypes() []string {
	return []string{HealthCheckHTTP, HealthCheckTCP, HealthCheckGRPC}
}

// Defaults for a health_check block.
const (
	DefaultHealthCheckType    = HealthCheckHTTP
	DefaultHealthCheckPath    = "/readyz"
	DefaultInterval           = 10 * time.Second
	DefaultTimeout            = 5 * time.Second
	DefaultHealthyThreshold   = 2
	DefaultUnhealthyThreshold = 3
	DefaultExpectedStatus     = "200"
)

// HealthCheck is a pool's "health_check" block: the active probe run
// against each of its backends.
type HealthCheck struct {
	// Type is the probe ("type", default "http"): "http" sends GET Path and
	// matches the status; "tcp" only connects; "grpc" calls the standard
	// grpc.health.v1.Health/Check for GRPCService (over TLS when the pool
	// has a tls block, else plaintext): SERVING
	// passes, NOT_SERVING drains the backend at once, any other answer
	// is a failure.
	Type string

	// Path is the HTTP probe's request path ("path", default "/readyz");
	// it starts with "/". Unused by tcp probes; "" for grpc probes, where
	// writing it is an error.
	Path string

	// Host is the Host header of the HTTP probe, or the :authority of a
	// grpc probe ("host", optional); empty means the backend's address.
	Host string

	// GRPCService is the service a grpc probe asks about ("grpc_service",
	// default "": the whole server, as the gRPC Health Checking Protocol
	// defines), such as "mypackage.MyService". Writing it with another
	// type is an error.
	GRPCService string

	// Port is the port to probe ("port", optional, 1..65535); 0 means the
	// backend's own port.
	Port int

	// ReuseConnection keeps one connection per backend open across HTTP
	// probes ("reuse_connection", default true): a probe is then a write
	// and a read, with no TCP handshake. A kept connection the backend
	// closed while idle is redialed within the probe, so it never counts
	// as a failure; a failed probe always drops it. false opens a
	// connection for every probe (HAProxy's way), which also proves the
	// backend still accepts new connections. http only.
	ReuseConnection bool

	// Interval is the time between probes of one backend ("interval",
	// default 10s). Sub-second values such as "200ms" work.
	Interval time.Duration

	// Timeout bounds one probe ("timeout", default 5s); it is always
	// shorter than Interval.
	Timeout time.Duration

	// HealthyThreshold is how many consecutive passes take a backend up
	// ("healthy_threshold", default 2, at least 1).
	HealthyThreshold int

	// UnhealthyThreshold is how many consecutive failures take a backend
	// down ("unhealthy_threshold", default 3, at least 1).
	UnhealthyThreshold int

	// ExpectedStatus are the HTTP statuses that pass, parsed from
	// "expected_status" (default "200"). See ParseStatusRanges. Nil for
	// grpc probes, where writing it is an error.
	ExpectedStatus []StatusRange

	// ExpectedStatusText is "expected_status" as written, for display; ""
	// for grpc probes.
	ExpectedStatusText string

	// DeclRange is where the block is declared; the zero Range when the
	// pool has no health_check block.
	DeclRange hcl.Range
}

// Backend is a `backend "HOST:PORT"` block inside a pool.
type Backend struct {
	// Address is the block label, host:port with a numeric port in
	// 1..65535, as written.
	Address string

	// Weight is the backend's share for weighted algorithms ("weight",
	// default 1, at least 1).
	Weight int

	// DeclRange is where the block is declared.
	DeclRange hcl.Range
}

// DefaultWeight is a backend's weight when none is written.
const DefaultWeight = 1
