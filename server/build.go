package server

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"github.com/lbtrust/lb/admin"
	"github.com/lbtrust/lb/balancer"
	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/fleet"
	"github.com/lbtrust/lb/healthcheck"
	"github.com/lbtrust/lb/metrics"
	"github.com/lbtrust/lb/pool"
	"github.com/lbtrust/lb/proxy"
	"github.com/valyala/fasthttp"
	"go.uber.org/zap"
)

// trafficListener is one configured proxy listener.
type trafficListener struct {
	name, address string
	handler       *proxy.Handler
	server        *proxy.Server
	ln            net.Listener
	bound         atomic.Bool
	// tls is the live TLS settings of a TLS listener; nil for plain HTTP.
	tls *liveTLS
}

// adminListener is the admin endpoint server.
type adminListener struct {
	address string
	handler *admin.Handler
	server  *fasthttp.Server
	ln      net.Listener
}

// poolRuntime is a pool in service (or retired) with what the LB holds
// for it.
type poolRuntime struct {
	cfg      *config.Pool
	pool     *pool.Pool
	backends map[string]*backendRuntime // by address; guarded by LB.mu
	// unreaped counts the backends the pool has had whose checker is not
	// yet stopped for good (LB.reap); a retired pool is freed when it
	// reaches 0. Guarded by LB.mu.
	unreaped int
	// checkLog is the logger of the pool's checkers: LB's with the pool's
	// name, made once per pool (each checker adds its backend per line;
	// a logger per checker would keep an encoder per backend). Made on
	// first use; guarded by LB.mu.
	checkLog *zap.Logger
	// checkTemplate is the template the pool's checkers are made from,
	// built from checkSpec (with the pool's tls block checkTLS), so that
	// 10,000 checkers share one spec; checkMetrics is their one metrics
	// observer. Made on first use, the template again when the spec
	// changes; guarded by LB.mu.
	checkTemplate *healthcheck.Template
	checkSpec     healthcheck.Spec
	checkTLS      *config.BackendTLS
	checkMetrics  *metrics.CheckObserver
	// sources are the pool's discovery blocks at run time, in file order
	// (discovery.go). Guarded by LB.mu.
	sources []*sourceRuntime
}

// backendRuntime is what the LB holds per backend besides the pool entry:
// its checker. Its connection pool is the *proxy.BackendClient attached to
// the backend (see clientOf).
type backendRuntime struct {
	backend *pool.Backend
	owner   *poolRuntime // the pool the backend is in, for LB.reap

	// fleet is the backend's share of the fleet's checks (fleet.go);
	// nil without a fleet block, when its checker always runs.
	fleet *fleetBackend

	mu      sync.Mutex
	spec    healthcheck.Spec
	checker *healthcheck.Checker
	stopFn  func()             // stops the running checker; nil when none runs
	group   *healthcheck.Group // where start ran the checker; nil before
	gone    bool               // reaped: the checker never runs again
}

// start runs checker (replacing and stopping any running one) in g; the
// first probe comes at once, with a little jitter. In a fleet the checker
// is only kept, not run, while this instance has no reason to probe the
// backend (syncProbing runs it when it has).
func (br *backendRuntime) start(g *healthcheck.Group, checker *healthcheck.Checker, spec healthcheck.Spec) {
	br.halt()
	br.mu.Lock()
	defer br.mu.Unlock()
	br.checker, br.spec, br.group = checker, spec, g
	if !br.gone && (br.fleet == nil || br.fleet.probing()) {
		br.stopFn = g.Start(checker)
	}
}

// syncProbing runs or stops the checker as the fleet now wants: run
// while this instance owns, adopted or locally holds out the backend,
// stopped otherwise. No-op before start and after the backend is
// reaped. It must not be called from the checker's own goroutine.
func (br *backendRuntime) syncProbing() {
	want := br.fleet == nil || br.fleet.probing()
	br.mu.Lock()
	var stop func()
	switch {
	case want && br.stopFn == nil && br.group != nil && !br.gone:
		br.stopFn = br.group.Start(br.checker)
	case !want && br.stopFn != nil:
		stop, br.stopFn = br.stopFn, nil
	}
	br.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// retire stops the checker for good (the pool forgot the backend).
func (br *backendRuntime) retire() {
	br.mu.Lock()
	br.gone = true
	br.mu.Unlock()
	br.halt()
}

// halt stops the running checker, if any, and waits for it. It must not
// be called from the checker's own goroutine.
func (br *backendRuntime) halt() {
	br.mu.Lock()
	stop := br.stopFn
	br.stopFn = nil
	br.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// currentSpec is the spec of the backend's checker.
func (br *backendRuntime) currentSpec() healthcheck.Spec {
	br.mu.Lock()
	defer br.mu.Unlock()
	return br.spec
}

// clientOf returns the connection pool attached to b.
func clientOf(b *pool.Backend) *proxy.BackendClient {
	c, _ := b.Attached().(*proxy.BackendClient)
	return c
}

// newPoolRuntime makes the pool of a pool block, without backends.
func (lb *LB) newPoolRuntime(pc *config.Pool) (*poolRuntime, error) {
	if err := lb.validatePool(pc); err != nil {
		return nil, err
	}
	p := pool.New(pool.Options{
		Name:                pc.Name,
		Policy:              policyOf(pc),
		Thresholds:          thresholds(pc),
		DeregistrationDelay: pc.DeregistrationDelay,
		Resilience:          resilience(pc),
		Logger:              lb.log,
		OnTransition:        lb.onTransition,
	})
	return &poolRuntime{cfg: pc, pool: p, backends: map[string]*backendRuntime{}}, nil
}

// resilience are the request-path signal settings of a pool block.
func resilience(pc *config.Pool) pool.Resilience {
	return pool.Resilience{
		Passive: pool.Passive{
			Enabled:             pc.Passive.Enabled,
			ConsecutiveFailures: pc.Passive.ConsecutiveFailures,
			ConsecutiveTimeouts: pc.Passive.ConsecutiveTimeouts,
			BaseEjection:        pc.Passive.BaseEjection,
			MaxEjection:         pc.Passive.MaxEjection,
			MaxEjectedPercent:   pc.Passive.MaxEjectedPercent,
		},
		Silent:         pool.Silent{Enabled: pc.SilentAfter != config.SilentAfterOff, After: max(pc.SilentAfter, 0)},
		PanicThreshold: pc.PanicThreshold,
		FailClosed:     pc.WhenAllUnhealthy == config.WhenAllUnhealthyFailClosed,
		SlowStart:      pc.SlowStart,
	}
}

// thresholds are the state machine counts of a pool block.
func thresholds(pc *config.Pool) pool.Thresholds {
	return pool.Thresholds{Healthy: pc.HealthCheck.HealthyThreshold, Unhealthy: pc.HealthCheck.UnhealthyThreshold}
}

// validatePool checks what the runtime needs of a pool block beyond what
// config validated: its policy and every backend's check spec build.
func (lb *LB) validatePool(pc *config.Pool) error {
	if _, err := balancer.New(pc.Algorithm); err != nil {
		return fmt.Errorf("pool %q: %w", pc.Name, err)
	}
	if _, err := retryPolicy(pc); err != nil {
		return err
	}
	spec := checkSpecTLS(pc)
	for _, bc := range pc.Backends {
		if _, err := healthcheck.New(spec, bc.Address, discard{}, nil); err != nil {
			return fmt.Errorf("pool %q backend %q: %w", pc.Name, bc.Address, err)
		}
	}
	return nil
}

// addBackend adds a backend block to pr's pool with its connection pool and
// checker (not started). A backend still draining after an earlier removal
// is taken back with its state machine, counters, connections and
// checker. The block must have passed validatePool. discovered says a
// discovery source, not the file, lists it (the reason it is taken back
// with).
func (lb *LB) addBackend(pr *poolRuntime, bc *config.Backend, discovered bool) (br *backendRuntime, revived bool, err error) {
	add := pr.pool.Add
	if discovered {
		add = pr.pool.AddDiscovered
	}
	b, revived, err := add(bc.Address, bc.Weight)
	if err != nil {
		return nil, false, err
	}
	if v, ok := lb.runtimes.Load(b); ok && revived {
		br = v.(*backendRuntime)
		pr.backends[bc.Address] = br
		return br, true, nil
	}
	spec := checkSpecTLS(pr.cfg)
	br = &backendRuntime{backend: b, owner: pr, spec: spec}
	if lb.fleet != nil {
		br.fleet = &fleetBackend{target: fleet.Target{Pool: pr.cfg.Name, Backend: b.Address()}, backend: b, pool: pr.pool}
	}
	checker, err := lb.newChecker(pr, b, spec, br.fleet)
	if err != nil {
		return nil, false, err
	}
	br.checker = checker
	b.Attach(proxy.NewBackendClient(bc.Address, clientOptionsTLS(pr.cfg)))
	if lb.fleet != nil {
		lb.fleet.register(br)
	}
	lb.runtimes.Store(b, br)
	pr.backends[bc.Address] = br
	pr.unreaped++
	return br, false, nil
}

// newChecker makes the checker of backend b of pool pr with spec (the
// pool's, checkSpecTLS(pr.cfg)), from the pool's template; fb is b's
// share of the fleet (nil without a fleet). Call it with LB.mu held.
func (lb *LB) newChecker(pr *poolRuntime, b *pool.Backend, spec healthcheck.Spec, fb *fleetBackend) (*healthcheck.Checker, error) {
	name := pr.cfg.Name
	if pr.checkLog == nil {
		pr.checkLog = lb.log.With(zap.String("pool", name))
	}
	if pr.checkMetrics == nil {
		pr.checkMetrics = lb.metrics.Checks(name)
	}
	if pr.checkTemplate == nil || !sameSpec(pr.checkSpec, spec, pr.checkTLS, pr.cfg.TLS) {
		t, err := healthcheck.NewTemplate(spec)
		if err != nil {
			return nil, fmt.Errorf("pool %q backend %q: %w", name, b.Address(), err)
		}
		pr.checkTemplate, pr.checkSpec, pr.checkTLS = t, spec, pr.cfg.TLS
	}
	rep := checkReporter{backend: b, metrics: pr.checkMetrics}
	if fb != nil {
		rep.fleet, rep.fb = lb.fleet, fb
	}
	c, err := pr.checkTemplate.New(b.Address(), rep, pr.checkLog)
	if err != nil {
		return nil, fmt.Errorf("pool %q backend %q: %w", name, b.Address(), err)
	}
	return c, nil
}

// clientOptions are the backend connection settings of a pool block.
func clientOptions(pc *config.Pool) proxy.ClientOptions {
	return proxy.ClientOptions{
		ConnectTimeout:  pc.ConnectTimeout,
		IdleConnTimeout: pc.IdleConnTimeout,
		MaxConns:        pc.MaxConnsPerBackend,
	}
}

// checkSpec converts a health_check block into a checker spec.
func checkSpec(hc config.HealthCheck) healthcheck.Spec {
	s := healthcheck.Spec{
		Type:     hc.Type,
		Path:     hc.Path,
		Host:     hc.Host,
		Port:     hc.Port,
		Interval: hc.Interval,
		Timeout:  hc.Timeout,

		FreshConnection: hc.Type == config.HealthCheckHTTP && !hc.ReuseConnection,

		GRPCService:    hc.GRPCService,
		ExpectedStatus: hc.ExpectedStatus,
	}
	return s
}

// routesLocked builds every listener's routing table of cfg over the pools
// now in lb.pools (which must hold every pool cfg names).
func (lb *LB) routesLocked(cfg *config.Config) map[string]proxy.Routes {
	ups := make(map[string]*proxy.Upstream, len(lb.pools))
	for _, pr := range lb.pools {
		retry, err := retryPolicy(pr.cfg)
		if err != nil {
			// validatePool refused such a block before it got here.
			lb.log.Error("invalid retry block, retries off", zap.String("pool", pr.cfg.Name), zap.Error(err))
		}
		ups[pr.cfg.Name] = &proxy.Upstream{Pool: pr.pool, HeaderTimeout: pr.cfg.HeaderTimeout,
			BodyIdleTimeout: pr.cfg.BodyIdleTimeout, ResponseTimeout: pr.cfg.ResponseTimeout, Retry: retry,
			Duration: lb.metrics.RequestDuration(pr.cfg.Name),
			Key:      keySource(pr.cfg), Sticky: lb.stickyOptionsLocked(pr.cfg)}
	}
	out := make(map[string]proxy.Routes, len(cfg.Listeners))
	for _, lc := range cfg.Listeners {
		r := proxy.Routes{Default: ups[lc.Pool]}
		for _, rc := range lc.Routes {
			r.Routes = append(r.Routes, proxy.Route{Host: rc.Host, PathPrefix: rc.PathPrefix, Upstream: ups[rc.Pool]})
		}
		out[lc.Name] = r
	}
	return out
}

// retryPolicy is the proxy retry policy of a pool block's retry settings
// (config has applied the defaults: a pool without a retry block retries
// connect failures and resets once). On error it returns a policy with
// retries off.
func retryPolicy(pc *config.Pool) (proxy.RetryPolicy, error) {
	r, err := proxy.NewRetryPolicy(proxy.RetryOptions{
		Attempts:      pc.Retry.Attempts,
		PerTryTimeout: pc.Retry.PerTryTimeout,
		On:            pc.Retry.On,
		BudgetPercent: pc.Retry.BudgetPercent,
	})
	if err != nil {
		off, _ := proxy.NewRetryPolicy(proxy.RetryOptions{})
		return off, fmt.Errorf("pool %q: %w", pc.Name, err)
	}
	return r, nil
}

// buildListener makes the proxy handler and server of a listener block.
func (lb *LB) buildListener(lc *config.Listener, routes proxy.Routes) *trafficListener {
	h := proxy.NewHandler(lc.Name, routes, lb.log)
	h.SetTrustedProxies(lc.TrustedProxies)
	srv := proxy.NewServer(h, proxy.ServerOptions{
		ReadTimeout:        lc.ReadTimeout,
		ReadHeaderTimeout:  lc.ReadHeaderTimeout,
		BodyReadTimeout:    lc.BodyReadTimeout,
		WriteTimeout:       lc.WriteTimeout,
		IdleTimeout:        lc.IdleTimeout,
		MaxRequestBodySize: lc.MaxRequestBodySize,
		MaxHeaderBytes:     lc.MaxHeaderBytes,
		MaxHeaderCount:     lc.MaxHeaderCount,
		MaxURILength:       lc.MaxURILength,
		MaxConnections:     lc.MaxConnections,
		OutOfFiles:         lb.closeIdleBackendConns,
	}, lb.log)
	tl := &trafficListener{name: lc.Name, address: lc.Address, handler: h, server: srv}
	if lc.TLS != nil {
		tl.tls = newLiveTLS(lc.TLS)
	}
	return tl
}

// buildAdmin makes the admin handler, reading live pool and listener views
// and acting through the LB.
func (lb *LB) buildAdmin(ac *config.Admin) *adminListener {
	h := admin.New(admin.Options{
		Version:    lb.version,
		Started:    lb.started,
		Pools:      lb.Pools,
		Listeners:  lb.listenerStates,
		Drain:      adminAction(lb.Drain),
		Undrain:    adminAction(lb.Undrain),
		Reload:     lb.ReloadFile,
		Reloads:    lb.LastReload,
		Events:     lb.events,
		Metrics:    lb.metrics.Handler(),
		Token:      string(ac.Token),
		Pprof:      ac.Pprof,
		ReadyPools: poolReadiness(ac.ReadyPools),
		Fleet:      lb.fleetState,
		Log:        lb.log,
	})
	return &adminListener{address: ac.Address, handler: h, server: admin.NewServer(h)}
}

// poolReadiness maps the admin block's ready_pools to the admin handler's
// rule; "" (a Config not made by Parse) is the default, every pool.
func poolReadiness(readyPools string) admin.PoolReadiness {
	switch readyPools {
	case config.ReadyPoolsAny:
		return admin.AnyPool
	case config.ReadyPoolsNone:
		return admin.NoPool
	}
	return admin.EveryPool
}

// listenerStates reports each traffic listener and whether it is bound.
func (lb *LB) listenerStates() []admin.ListenerState {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	out := make([]admin.ListenerState, 0, len(lb.listeners))
	for _, l := range lb.listeners {
		addr := l.address
		if l.ln != nil {
			addr = l.ln.Addr().String()
		}
		out = append(out, admin.ListenerState{Name: l.name, Address: addr, Bound: l.bound.Load(),
			Connections: l.server.OpenConnections(), Rejections: l.handler.Rejections().Snapshot(),
			Streams:   admin.StreamsState{Open: l.handler.Streams(), Ended: l.handler.StreamEnds().Snapshot()},
			AccessLog: accessLogState(l.handler.AccessLog())})
	}
	return out
}

// listenerCounts reports each traffic listener's open connections and
// refusals for the metrics. The listeners are fixed for the process's
// life, so it needs no lock.
func (lb *LB) listenerCounts() []metrics.ListenerCounts {
	out := make([]metrics.ListenerCounts, 0, len(lb.listeners))
	for _, l := range lb.listeners {
		out = append(out, metrics.ListenerCounts{Name: l.name, Open: l.server.OpenConnections(),
			Rejections: l.handler.Rejections().Snapshot(), StreamsOpen: l.handler.Streams(),
			StreamEnds: l.handler.StreamEnds().Snapshot(), AccessLog: accessLogCounts(l.handler.AccessLog())})
	}
	return out
}

// adminAction adapts Drain or Undrain to the admin handler's error kinds.
func adminAction(act func(poolName, address string) (pool.BackendStatus, error)) func(string, string) (pool.BackendStatus, error) {
	return func(poolName, address string) (pool.BackendStatus, error) {
		st, err := act(poolName, address)
		switch {
		case errors.Is(err, ErrUnknownPool), errors.Is(err, pool.ErrUnknownBackend):
			err = fmt.Errorf("%w: %w", admin.ErrNotFound, err)
		case errors.Is(err, pool.ErrNotDrained):
			err = fmt.Errorf("%w: %w", admin.ErrConflict, err)
		}
		return st, err
	}
}

// fleetState is the admin's view of the fleet; nil without a fleet block.
func (lb *LB) fleetState() *admin.FleetState {
	if lb.fleet == nil {
		return nil
	}
	return lb.fleet.state()
}
