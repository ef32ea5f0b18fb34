package config

import "github.com/hashicorp/hcl/v2"

// The structs below are the file as gohcl decodes it: blocks, labels and
// ranges, with every attribute kept as its hcl.Expression. The decodeX
// functions evaluate each expression on its own, so a value of the wrong
// type is reported once, at the value, and checks that depend on it are
// skipped rather than run on a half-decoded zero. An absent attribute is
// an expression that evaluates to null. Required attributes are optional
// here too, so the decoders can say what to add.

// fileSchema is a whole configuration file.
type fileSchema struct {
	Admin     *adminBlock      `hcl:"admin,block"`
	Listeners []*listenerBlock `hcl:"listener,block"`
	Pools     []*poolBlock     `hcl:"pool,block"`
	Fleet     *fleetBlock      `hcl:"fleet,block"`
}

// adminBlock is the admin block.
type adminBlock struct {
	Address       hcl.Expression `hcl:"address,optional"`
	ShutdownDelay hcl.Expression `hcl:"shutdown_delay,optional"`
	GracePeriod   hcl.Expression `hcl:"grace_period,optional"`
	Token         hcl.Expression `hcl:"token,optional"`
	TokenFile     hcl.Expression `hcl:"token_file,optional"`
	EventBuffer   hcl.Expression `hcl:"event_buffer,optional"`
	Pprof         hcl.Expression `hcl:"pprof,optional"`
	ReadyPools    hcl.Expression `hcl:"ready_pools,optional"`

	UpstreamProbe *upstreamProbeBlock `hcl:"upstream_probe,block"`

	DeclRange hcl.Range `hcl:",def_range"`
}

// upstreamProbeBlock is an upstream_probe block inside admin.
type upstreamProbeBlock struct {
	Interval           hcl.Expression `hcl:"interval,optional"`
	UnhealthyThreshold hcl.Expression `hcl:"unhealthy_threshold,optional"`

	DeclRange hcl.Range `hcl:",def_range"`
}

// listenerBlock is a `listener "NAME"` block.
type listenerBlock struct {
	Name      string    `hcl:"name,label"`
	NameRange hcl.Range `hcl:"name,label_range"`

	Address            hcl.Expression `hcl:"address,optional"`
	Pool               hcl.Expression `hcl:"pool,optional"`
	ReadTimeout        hcl.Expression `hcl:"read_timeout,optional"`
	WriteTimeout       hcl.Expression `hcl:"write_timeout,optional"`
	IdleTimeout        hcl.Expression `hcl:"idle_timeout,optional"`
	MaxRequestBodySize hcl.Expression `hcl:"max_request_body_size,optional"`
	TrustedProxies     hcl.Expression `hcl:"trusted_proxies,optional"`
	RedirectHTTPS      hcl.Expression `hcl:"redirect_https,optional"`
	RedirectHTTPSPort  hcl.Expression `hcl:"redirect_https_port,optional"`
	ReadHeaderTimeout  hcl.Expression `hcl:"read_header_timeout,optional"`
	BodyReadTimeout    hcl.Expression `hcl:"body_read_timeout,optional"`
	MaxHeaderBytes     hcl.Expression `hcl:"max_header_bytes,optional"`
	MaxHeaderCount     hcl.Expression `hcl:"max_header_count,optional"`
	MaxURILength       hcl.Expression `hcl:"max_uri_length,optional"`
	MaxConnections     hcl.Expression `hcl:"max_connections,optional"`
	RequestBufferSize  hcl.Expression `hcl:"request_buffer_size,optional"`

	Routes    []*routeBlock     `hcl:"route,block"`
	TLS       *listenerTLSBlock `hcl:"tls,block"`
	AccessLog *accessLogBlock   `hcl:"access_log,block"`

	DeclRange hcl.Range `hcl:",def_range"`
}

// routeBlock is a route block inside a listener.
type routeBlock struct {
	Host       hcl.Expression `hcl:"host,optional"`
	PathPrefix hcl.Expression `hcl:"path_prefix,optional"`
	Pool       hcl.Expression `hcl:"pool,optional"`

	DeclRange hcl.Range `hcl:",def_range"`
}

// poolBlock is a `pool "NAME"` block.
type poolBlock struct {
	Name      string    `hcl:"name,label"`
	NameRange hcl.Range `hcl:"name,label_range"`

	Algorithm           hcl.Expression `hcl:"algorithm,optional"`
	ResponseTimeout     hcl.Expression `hcl:"response_timeout,optional"`
	HeaderTimeout       hcl.Expression `hcl:"header_timeout,optional"`
	BodyIdleTimeout     hcl.Expression `hcl:"body_idle_timeout,optional"`
	ConnectTimeout      hcl.Expression `hcl:"connect_timeout,optional"`
	IdleConnTimeout     hcl.Expression `hcl:"idle_conn_timeout,optional"`
	MaxConnsPerBackend  hcl.Expression `hcl:"max_conns_per_backend,optional"`
	DeregistrationDelay hcl.Expression `hcl:"deregistration_delay,optional"`
	WhenAllUnhealthy    hcl.Expression `hcl:"when_all_unhealthy,optional"`
	PanicThreshold      hcl.Expression `hcl:"panic_threshold,optional"`
	SlowStart           hcl.Expression `hcl:"slow_start,optional"`
	SilentAfter         hcl.Expression `hcl:"silent_after,optional"`

	HealthCheck *healthCheckBlock `hcl:"health_check,block"`
	Retry       *retryBlock       `hcl:"retry,block"`
	Passive     *passiveBlock     `hcl:"passive,block"`
	Backends    []*backendBlock   `hcl:"backend,block"`
	TLS         *backendTLSBlock  `hcl:"tls,block"`
	Discovery   []*discoveryBlock `hcl:"discovery,block"`
	Hash        *hashBlock        `hcl:"hash,block"`
	Sticky      *stickyBlock      `hcl:"sticky,block"`

	DeclRange hcl.Range `hcl:",def_range"`
}

// healthCheckBlock is a health_check block inside a pool.
type healthCheckBlock struct {
	Type               hcl.Expression `hcl:"type,optional"`
	Path               hcl.Expression `hcl:"path,optional"`
	Host               hcl.Expression `hcl:"host,optional"`
	Port               hcl.Expression `hcl:"port,optional"`
	Interval           hcl.Expression `hcl:"interval,optional"`
	Timeout            hcl.Expression `hcl:"timeout,optional"`
	HealthyThreshold   hcl.Expression `hcl:"healthy_threshold,optional"`
	UnhealthyThreshold hcl.Expression `hcl:"unhealthy_threshold,optional"`
	ExpectedStatus     hcl.Expression `hcl:"expected_status,optional"`
	GRPCService        hcl.Expression `hcl:"grpc_service,optional"`
	ReuseConnection    hcl.Expression `hcl:"reuse_connection,optional"`

	DeclRange hcl.Range `hcl:",def_range"`
}

// retryBlock is a retry block inside a pool.
type retryBlock struct {
	Attempts      hcl.Expression `hcl:"attempts,optional"`
	PerTryTimeout hcl.Expression `hcl:"per_try_timeout,optional"`
	On            hcl.Expression `hcl:"on,optional"`
	BudgetPercent hcl.Expression `hcl:"budget_percent,optional"`

	DeclRange hcl.Range `hcl:",def_range"`
}

// passiveBlock is a passive block inside a pool.
type passiveBlock struct {
	Enabled             hcl.Expression `hcl:"enabled,optional"`
	ConsecutiveFailures hcl.Expression `hcl:"consecutive_failures,optional"`
	ConsecutiveTimeouts hcl.Expression `hcl:"consecutive_timeouts,optional"`
	BaseEjection        hcl.Expression `hcl:"base_ejection,optional"`
	MaxEjection         hcl.Expression `hcl:"max_ejection,optional"`
	MaxEjectedPercent   hcl.Expression `hcl:"max_ejected_percent,optional"`

	DeclRange hcl.Range `hcl:",def_range"`
}

// backendBlock is a `backend "HOST:PORT"` block inside a pool.
type backendBlock struct {
	Address      string    `hcl:"address,label"`
	AddressRange hcl.Range `hcl:"address,label_range"`

	Weight hcl.Expression `hcl:"weight,optional"`

	DeclRange hcl.Range `hcl:",def_range"`
}
