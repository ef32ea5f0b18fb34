// Package server assembles a running load balancer from a decoded
// configuration: it is the one place where config values become runtime
// objects (pools, health checkers, proxy handlers, the admin handler), and
// it owns their lifecycle (bind, serve, shut down).
//
// The sequence is New (build everything, open nothing), Start (bind every
// listener or none, then serve and start probing), BeginShutdown (readiness
// turns 503) and Shutdown (stop accepting, let in-flight requests finish
// within the context's deadline, stop the checkers, close backend
// connections).
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/healthcheck"
	"github.com/lbtrust/lb/pool"
	"github.com/lbtrust/lb/proxy"
	"github.com/valyala/fasthttp"
	"go.uber.org/zap"
)

// Options are the process-level settings of a load balancer.
type Options struct {
	// Version is reported by the admin endpoints.
	Version string
	// Log receives startup, shutdown and transition lines; nil logs nothing.
	Log *zap.Logger
}

// LB is one assembled load balancer. Its methods are safe for concurrent
// use, but Start and Shutdown are meant to be called once each, in order.
type LB struct {
	log     *zap.Logger
	started time.Time

	pools     []*pool.Pool
	backends  []*backendRuntime
	listeners []*trafficListener
	admin     *adminListener

	checks healthcheck.Group
	serve  sync.WaitGroup

	mu       sync.Mutex
	running  bool
	shutdown bool
}

// backendRuntime is what the LB holds per backend besides the pool entry.
type backendRuntime struct {
	backend *pool.Backend
	client  *fasthttp.HostClient
	checker *healthcheck.Checker
}

// New builds every runtime object for cfg without opening any socket. A
// configuration that passed config.Load is expected to build; an error here
// means a value the runtime cannot honour (it names the pool or backend).
func New(cfg *config.Config, o Options) (*LB, error) {
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	lb := &LB{log: o.Log, started: time.Now()}
	upstreams := make(map[string]*proxy.Upstream, len(cfg.Pools))
	for _, pc := range cfg.Pools {
		up, err := lb.buildPool(pc)
		if err != nil {
			return nil, err
		}
		upstreams[pc.Name] = up
	}
	for _, lc := range cfg.Listeners {
		l, err := lb.buildListener(lc, upstreams)
		if err != nil {
			return nil, err
		}
		lb.listeners = append(lb.listeners, l)
	}
	if cfg.Admin != nil {
		lb.admin = lb.buildAdmin(cfg.Admin, o.Version)
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
		l.ln = ln
		bound = append(bound, ln)
	}
	if lb.admin != nil {
		ln, err := net.Listen("tcp", lb.admin.address)
		if err != nil {
			return fail(fmt.Errorf("admin listener: %w", err))
		}
		lb.admin.ln = ln
	}
	for _, l := range lb.listeners {
		lb.serveOn(l.server, l.ln, "listener", l.name)
		l.bound.Store(true)
	}
	if lb.admin != nil {
		lb.serveOn(lb.admin.server, lb.admin.ln, "admin", "admin")
	}
	for _, br := range lb.backends {
		lb.checks.Start(br.checker)
	}
	lb.running = true
	return nil
}

// serveOn runs srv on ln until Shutdown.
func (lb *LB) serveOn(srv *fasthttp.Server, ln net.Listener, kind, name string) {
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
	for _, l := range lb.listeners {
		if l.name == name && l.ln != nil {
			return l.ln.Addr()
		}
	}
	return nil
}

// AdminAddr returns the bound admin address, or nil.
func (lb *LB) AdminAddr() net.Addr {
	if lb.admin == nil || lb.admin.ln == nil {
		return nil
	}
	return lb.admin.ln.Addr()
}

// Pools returns the pools in configuration order.
func (lb *LB) Pools() []*pool.Pool { return append([]*pool.Pool(nil), lb.pools...) }

// BeginShutdown makes /readyz answer 503 "shutting_down" while every
// listener keeps serving, so the tier in front stops sending traffic.
func (lb *LB) BeginShutdown() {
	if lb.admin != nil {
		lb.admin.handler.SetShuttingDown()
	}
}

// Shutdown stops accepting connections, waits for in-flight requests to
// finish until ctx is done, then stops the health checkers and closes every
// backend connection. It returns ctx.Err() if requests were still running
// at the deadline (they are cut). Calling it again is a no-op.
func (lb *LB) Shutdown(ctx context.Context) error {
	lb.mu.Lock()
	if lb.shutdown {
		lb.mu.Unlock()
		return nil
	}
	lb.shutdown = true
	running := lb.running
	lb.mu.Unlock()
	lb.BeginShutdown()

	var err error
	if running {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, l := range lb.listeners {
			l.bound.Store(false)
			wg.Go(func() {
				if e := l.server.ShutdownWithContext(ctx); e != nil {
					mu.Lock()
					err = e
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		lb.log.Info("listeners stopped; in-flight requests done", zap.Bool("cut_short", err != nil))
		if lb.admin != nil {
			// The admin listener goes last so /readyz says shutting_down
			// until the very end.
			actx, cancel := context.WithTimeout(context.Background(), time.Second)
			lb.admin.server.ShutdownWithContext(actx)
			cancel()
		}
		lb.serve.Wait()
	}
	lb.checks.Stop()
	for _, br := range lb.backends {
		br.client.CloseIdleConnections()
	}
	return err
}
