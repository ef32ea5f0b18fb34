package config

import (
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

// Defaults for a listener block.
const (
	DefaultReadTimeout        = 30 * time.Second
	DefaultWriteTimeout       = 30 * time.Second
	DefaultIdleTimeout        = 60 * time.Second
	DefaultMaxRequestBodySize = 10 << 20 // 10 MiB, in bytes
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
	// the client ("read_timeout", default 30s).
	ReadTimeout time.Duration

	// WriteTimeout bounds writing the response to the client
	// ("write_timeout", default 30s).
	WriteTimeout time.Duration

	// IdleTimeout is how long a kept-alive client connection may sit idle
	// between requests ("idle_timeout", default 60s).
	IdleTimeout time.Duration

	// MaxRequestBodySize is the largest request body accepted, in bytes
	// ("max_request_body_size", default 10485760 = 10 MiB, at least 1).
	MaxRequestBodySize int

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
	}
}

// Defaults for a pool block.
const (
	DefaultAlgorithm           = AlgorithmRoundRobin
	DefaultResponseTimeout     = 30 * time.Second
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

	// HealthCheck is the "health_check" block; every default applies when
	// the block is absent.
	HealthCheck HealthCheck

	// Backends are the "backend" blocks, in file order. There is at least
	// one, and no address appears twice.
	Backends []*Backend

	// ResponseTimeout bounds the whole backend answer, from sending the
	// request to the last byte of the response ("response_timeout",
	// default 30s).
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

	// DeclRange is where the block is declared.
	DeclRange hcl.Range
}

// Health check types, the valid values of a health_check's "type".
const (
	HealthCheckHTTP = "http"
	HealthCheckTCP  = "tcp"
)

// HealthCheckTypes returns the valid values of a health_check's "type", in
// a fresh slice the caller may keep.
func HealthCheckTypes() []string {
	return []string{HealthCheckHTTP, HealthCheckTCP}
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
	// matches the status; "tcp" only connects.
	Type string

	// Path is the HTTP probe's request path ("path", default "/readyz");
	// it starts with "/". Unused by tcp probes.
	Path string

	// Host is the Host header of the HTTP probe ("host", optional); empty
	// means the backend's address.
	Host string

	// Port is the port to probe ("port", optional, 1..65535); 0 means the
	// backend's own port.
	Port int

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
	// "expected_status" (default "200"). See ParseStatusRanges.
	ExpectedStatus []StatusRange

	// ExpectedStatusText is "expected_status" as written, for display.
	ExpectedStatusText string

	// DeclRange is where the block is declared; the zero Range when the
	// pool has no health_check block.
	DeclRange hcl.Range
}

// StatusOK reports whether code is one of the expected statuses.
func (h *HealthCheck) StatusOK(code int) bool {
	return StatusRanges(h.ExpectedStatus).Contains(code)
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
