// Package server assembles a running load balancer from a decoded
// configuration: it is the one place where config values become runtime
// objects (pools, health checkers, backend connection pools, proxy
// handlers, the admin handler), and it owns their lifecycle (bind, serve,
// reload, drain, shut down).
//
// The sequence is New (build everything, open nothing), Start (bind every
// listener or none, then serve and start probing), any number of Reload
// calls, BeginShutdown (readiness turns 503) and Shutdown (stop accepting,
// let in-flight requests finish within the context's deadline, stop the
// checkers, close backend connections).
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/lbtrust/lb/admin"
	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/events"
	"github.com/lbtrust/lb/healthcheck"
	"github.com/lbtrust/lb/metrics"
	"github.com/lbtrust/lb/pool"
	"github.com/lbtrust/lb/proxy"
	"go.uber.org/zap"
)

// Options are the process-level settings of a load balancer.
type Options struct {
	// Version is reported by the admin endpoints.
	Version string
	// ConfigPath is the file ReloadFile reads (SIGHUP, POST /reload).
	ConfigPath string
	// Log receives startup, shutdown, reload and transition lines; nil logs
	// nothing.
	Log *zap.Logger
	// Reloading, when not nil, is called as ReloadFile begins, and
	// Reloaded when it ends, with its result (nil: applied; the
	// configuration in use is unchanged otherwise), whatever asked for it
	// (SIGHUP, POST /reload): lb tells its service manager with them. They
	// run on the reloading goroutine and must not call back into the LB;
	// two reloads at once call them concurrently.
	Reloading func()
	Reloaded  func(err error)
}

// LB is one assembled load balancer. All methods are safe for concurrent
// use; Start and Shutdown are meant to be called once each, in order.
type LB struct {
	log     *zap.Logger
	started time.Time
	version string
	path    string
	// reloading and reloaded are Options.Reloading and Reloaded.
	reloading func()
	reloaded  func(err error)

	listeners []*trafficListener // fixed for the process's life
	admin     *adminListener     // nil without an admin block

	checks healthcheck.Group
	serve  sync.WaitGroup
	// sourcesRunning counts the discovery sources' goroutines
	// (discovery.go); Shutdown waits for them.
	sourcesRunning sync.WaitGroup
	// alogClosing counts the access logs being closed (accesslog.go);
	// Shutdown waits for them.
	alogClosing sync.WaitGroup
	// reaper stops the checkers of forgotten backends and frees retired
	// pools (retire.go).
	reaper reaper

	// events is the event trail served at /events (events.go); it has
	// its own lock, so transition hooks may record into it.
	events *events.Ring

	// metrics is the LB's Prometheus registry, served at /metrics.
	metrics *metrics.Metrics

	// runtimes maps *pool.Backend to its *backendRuntime. It is read by
	// transition hooks, which run while a pool (never lb.mu) may be
	// locked, so it is not guarded by mu.
	runtimes sync.Map

	mu         sync.Mutex // guards what follows; held across a whole reload
	cfg        *config.Config
	pools      []*poolRuntime // configuration order
	retired    []*poolRuntime // pools a reload removed, until freed (retire.go) or shutdown
	running    bool
	shutdown   bool
	lastReload admin.ReloadStatus
	// fleet shares the active checks with the other instances of the
	// fleet block (fleet.go); nil without one. Fixed for the process's
	// life (a reload cannot change the block).
	fleet *fleetRuntime
	// stickyKey signs the sticky cookies of pools without a key_file:
	// drawn at the first such pool, kept for the process's life
	// (affinity.go).
	stickyKey []byte
}

// New builds every runtime object for cfg without opening any socket. A
// configuration that passed config.Load is expected to build; an error here
// means a value the runtime cannot honour (it names the pool or backend).
func New(cfg *config.Config, o Options) (_ *LB, err error) {
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	lb := &LB{log: o.Log, started: time.Now(), version: o.Version, path: o.ConfigPath, cfg: cfg,
		events: events.New(eventBuffer(cfg)), reloading: o.Reloading, reloaded: o.Reloaded}
	defer func() {
		if err != nil {
			// The pools built so far run their watchdogs: stop them.
			for _, pr := range lb.pools {
				pr.pool.Close()
			}
		}
	}()
	lb.metrics = metrics.New(lb.Pools)
	if cfg.Fleet != nil {
		fr, err := newFleetRuntime(cfg.Fleet, lb.log)
		if err != nil {
			return nil, err
		}
		lb.fleet = fr
	}
	for _, pc := range cfg.Pools {
		pr, err := lb.newPoolRuntime(pc)
		if err != nil {
			return nil, err
		}
		lb.pools = append(lb.pools, pr)
		for _, bc := range pc.Backends {
			if _, _, err := lb.addBackend(pr, bc, false); err != nil {
				return nil, err
			}
		}
		lb.reconcileSourcesLocked(pr, pc) // not running yet: Start starts them
	}
	routes := lb.routesLocked(cfg)
	for _, lc := range cfg.Listeners {
		lb.listeners = append(lb.listeners, lb.buildListener(lc, routes[lc.Name]))
	}
	if err := lb.openAccessLogs(cfg); err != nil {
		return nil, err
	}
	lb.metrics.CollectListeners(lb.listenerCounts)
	if lb.fleet != nil {
		lb.metrics.CollectFleet(lb.fleet.counts)
	}
	if cfg.Admin != nil {
		lb.admin = lb.buildAdmin(cfg.Admin)
	}
	return lb, nil
}

// Start binds every listener (admin included) and starts serving and
// probing. If any address cannot be bound, nothing is left open and the
// error names the listener and address.
func (lb *LB) Start() error {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if lb.running || lb.shutdown {
		return errors.New("server: Start called twice")
	}
	var bound []net.Listener
	fail := func(err error) error {
		for _, ln := range bound {
			ln.Close()
		}
		for _, l := range lb.listeners {
			l.ln = nil
		}
		return err
	}
	for _, l := range lb.listeners {
		ln, err := net.Listen("tcp", l.address)
		if err != nil {
			return fail(fmt.Errorf("listener %q: %w", l.name, err))
		}
		bound = append(bound, ln)
		if l.tls != nil {
			ln = l.tls.listen(ln)
		}
		l.ln = ln
	}
	if lb.admin != nil {
		ln, err := net.Listen("tcp", lb.admin.address)
		if err != nil {
			return fail(fmt.Errorf("admin listener: %w", err))
		}
		lb.admin.ln = proxy.GuardListener(ln, "admin", lb.log)
	}
	lb.applyRedirectsLocked(lb.cfg)
	for _, l := range lb.listeners {
		if l.tls != nil {
			lb.log.Info("tls certificates", zap.String("name", l.name), zap.Strings("certificates", describeCerts(l.tls.cfg.Load())))
		}
		lb.serveOn(l.server, l.ln, "listener", l.name)
		l.bound.Store(true)
	}
	if lb.admin != nil {
		lb.serveOn(lb.admin.server, lb.admin.ln, "admin", "admin")
	}
	for _, pr := range lb.pools {
		for _, br := range pr.backends {
			br.start(&lb.checks, br.checker, br.spec)
		}
	}
	lb.running = true
	for _, pr := range lb.pools {
		lb.startSourcesLocked(pr)
	}
	if lb.fleet != nil {
		lb.fleet.start()
	}
	return nil
}

// closeUnserved closes ln after its server's ShutdownWithContext. That
// call only closes the listeners its Serve has already registered: when
// Shutdown follows Start so closely that a Serve goroutine has not run
// yet, it returns at once and that Serve would then accept forever,
// leaving Shutdown stuck in lb.serve.Wait. Closing ln here makes such a
// late Serve return; for a listener already closed it is a no-op.
func closeUnserved(ln net.Listener) {
	if ln != nil {
		ln.Close()
	}
}

// server is what serveOn runs: a *fasthttp.Server or a *proxy.Server.
type server interface{ Serve(net.Listener) error }

// serveOn runs srv on ln until Shutdown.
func (lb *LB) serveOn(srv server, ln net.Listener, kind, name string) {
	lb.log.Info("listening", zap.String("kind", kind), zap.String("name", name), zap.String("address", ln.Addr().String()))
	lb.serve.Go(func() {
		if err := srv.Serve(ln); err != nil {
			lb.log.Error("serve stopped", zap.String("name", name), zap.Error(err))
		}
	})
}

// ListenerAddr returns the bound address of the named traffic listener, or
// nil before Start or for an unknown name.
func (lb *LB) ListenerAddr(name string) net.Addr {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	for _, l := range lb.listeners {
		if l.name == name && l.ln != nil {
			return l.ln.Addr()
		}
	}
	return nil
}

// AdminAddr returns the bound admin address, or nil.
func (lb *LB) AdminAddr() net.Addr {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if lb.admin == nil || lb.admin.ln == nil {
		return nil
	}
	return lb.admin.ln.Addr()
}

// Pools returns the pools now in service, in configuration order.
func (lb *LB) Pools() []*pool.Pool {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	out := make([]*pool.Pool, len(lb.pools))
	for i, pr := range lb.pools {
		out[i] = pr.pool
	}
	return out
}

// ShutdownTiming returns the current configuration's shutdown delay, grace
// period and how the delay was derived (for the log line).
func (lb *LB) ShutdownTiming() (delay, grace time.Duration, derivation string) {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	return lb.cfg.ShutdownTiming()
}

// InFlight is the number of requests being forwarded now, over every pool.
func (lb *LB) InFlight() int64 {
	var n int64
	for _, p := range lb.Pools() {
		for _, b := range p.Backends() {
			n += b.InFlight()
		}
	}
	return n
}

// BeginShutdown makes /readyz answer 503 "shutting_down" while every
// listener keeps serving, so the tier in front stops sending traffic.
func (lb *LB) BeginShutdown() {
	if lb.admin != nil {
		lb.admin.handler.SetShuttingDown()
	}
}

// Shutdown stops accepting connections, waits for in-flight requests and
// upgraded connections (WebSockets) to finish until ctx is done (upgraded
// ones still open then are closed, one log line each), then stops the
// health checkers and closes every backend connection. It returns ctx.Err() if requests were still running
// at the deadline (they are cut). Calling it again is a no-op.
func (lb *LB) Shutdown(ctx context.Context) error {
	lb.mu.Lock()
	if lb.shutdown {
		lb.mu.Unlock()
		return nil
	}
	lb.shutdown = true
	running := lb.running
	// The backend sets stay as they are for the drain: no source changes
	// them from here on.
	for _, pr := range lb.pools {
		lb.stopSourcesLocked(pr)
	}
	lb.mu.Unlock()
	lb.BeginShutdown()

	var err error
	if running {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, l := range lb.listeners {
			l.bound.Store(false)
			wg.Go(func() {
				// fasthttp's Shutdown does not wait for hijacked
				// connections, nor cut streams: upgraded connections and
				// streamed answers get the same grace period.
				var upgraded sync.WaitGroup
				upgraded.Go(func() {
					if n := l.handler.ShutdownLong(ctx); n > 0 {
						lb.log.Warn("grace period over: upgraded connections and streams closed",
							zap.String("listener", l.name), zap.Int("connections", n))
						mu.Lock()
						err = ctx.Err()
						mu.Unlock()
					}
				})
				if e := l.server.ShutdownWithContext(ctx); e != nil {
					mu.Lock()
					err = e
					mu.Unlock()
				}
				closeUnserved(l.ln)
				upgraded.Wait()
			})
		}
		wg.Wait()
		if lb.admin != nil {
			// The admin listener goes last so /readyz says shutting_down
			// until the very end.
			actx, cancel := context.WithTimeout(context.Background(), time.Second)
			lb.admin.server.ShutdownWithContext(actx)
			cancel()
			closeUnserved(lb.admin.ln)
		}
		lb.serve.Wait()
	}
	lb.closeAccessLogs()
	lb.checks.Stop()
	if lb.fleet != nil {
		// Leave the fleet last: this instance's verdicts held until its
		// listeners closed.
		lb.fleet.stop()
	}
	lb.sourcesRunning.Wait()
	// Checkers are stopped: a backend forgotten from now on has nothing
	// left to reap, and what is still retired is closed below.
	lb.reaper.Close()
	lb.mu.Lock()
	defer lb.mu.Unlock()
	for _, pr := range lb.pools {
		pr.pool.Close()
	}
	for _, pr := range lb.retired {
		pr.pool.Close()
	}
	lb.runtimes.Range(func(_, v any) bool {
		if c := clientOf(v.(*backendRuntime).backend); c != nil {
			c.CloseAll()
		}
		return true
	})
	return err
}
