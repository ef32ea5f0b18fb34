package server

import (
	"fmt"
	"net"
	"sync/atomic"

	"github.com/lbtrust/lb/admin"
	"github.com/lbtrust/lb/balancer"
	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/healthcheck"
	"github.com/lbtrust/lb/pool"
	"github.com/lbtrust/lb/proxy"
	"github.com/valyala/fasthttp"
	"go.uber.org/zap"
)

// trafficListener is one configured proxy listener.
type trafficListener struct {
	name, address string
	handler       *proxy.Handler
	server        *fasthttp.Server
	ln            net.Listener
	bound         atomic.Bool
}

// adminListener is the admin endpoint server.
type adminListener struct {
	address string
	handler *admin.Handler
	server  *fasthttp.Server
	ln      net.Listener
}

// buildPool turns a pool block into a pool, its backends' connection pools
// and health checkers, and the proxy's view of it.
func (lb *LB) buildPool(pc *config.Pool) (*proxy.Upstream, error) {
	policy, err := balancer.New(pc.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("pool %q: %w", pc.Name, err)
	}
	p := pool.New(pool.Options{
		Name:   pc.Name,
		Policy: policy,
		Thresholds: pool.Thresholds{
			Healthy:   pc.HealthCheck.HealthyThreshold,
			Unhealthy: pc.HealthCheck.UnhealthyThreshold,
		},
		Logger: lb.log,
	})
	spec := checkSpec(pc.HealthCheck)
	for _, bc := range pc.Backends {
		b, err := p.Add(bc.Address, bc.Weight)
		if err != nil {
			return nil, err
		}
		client := proxy.NewBackendClient(bc.Address, proxy.ClientOptions{
			ConnectTimeout:  pc.ConnectTimeout,
			IdleConnTimeout: pc.IdleConnTimeout,
			MaxConns:        pc.MaxConnsPerBackend,
		})
		b.Attach(client)
		checker, err := healthcheck.New(spec, bc.Address, b,
			lb.log.With(zap.String("pool", pc.Name), zap.String("backend", bc.Address)))
		if err != nil {
			return nil, fmt.Errorf("pool %q backend %q: %w", pc.Name, bc.Address, err)
		}
		lb.backends = append(lb.backends, &backendRuntime{backend: b, client: client, checker: checker})
	}
	lb.pools = append(lb.pools, p)
	return &proxy.Upstream{Pool: p, ResponseTimeout: pc.ResponseTimeout}, nil
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
	}
	for _, r := range hc.ExpectedStatus {
		s.ExpectedStatus = append(s.ExpectedStatus, healthcheck.StatusRange{Min: r.Min, Max: r.Max})
	}
	return s
}

// buildListener makes the proxy handler and server of a listener block.
func (lb *LB) buildListener(lc *config.Listener, ups map[string]*proxy.Upstream) (*trafficListener, error) {
	routes := proxy.Routes{Default: ups[lc.Pool]}
	if routes.Default == nil {
		return nil, fmt.Errorf("listener %q: unknown pool %q", lc.Name, lc.Pool)
	}
	for _, rc := range lc.Routes {
		up := ups[rc.Pool]
		if up == nil {
			return nil, fmt.Errorf("listener %q: route to unknown pool %q", lc.Name, rc.Pool)
		}
		routes.Routes = append(routes.Routes, proxy.Route{Host: rc.Host, PathPrefix: rc.PathPrefix, Upstream: up})
	}
	h := proxy.NewHandler(lc.Name, routes, lb.log)
	srv := proxy.NewServer(h, proxy.ServerOptions{
		ReadTimeout:        lc.ReadTimeout,
		WriteTimeout:       lc.WriteTimeout,
		IdleTimeout:        lc.IdleTimeout,
		MaxRequestBodySize: lc.MaxRequestBodySize,
	}, lb.log)
	return &trafficListener{name: lc.Name, address: lc.Address, handler: h, server: srv}, nil
}

// buildAdmin makes the admin handler, reading live pool and listener views.
func (lb *LB) buildAdmin(ac *config.Admin, version string) *adminListener {
	h := admin.New(admin.Options{
		Version: version,
		Started: lb.started,
		Pools:   lb.Pools,
		Listeners: func() []admin.ListenerState {
			out := make([]admin.ListenerState, 0, len(lb.listeners))
			for _, l := range lb.listeners {
				addr := l.address
				if l.ln != nil {
					addr = l.ln.Addr().String()
				}
				out = append(out, admin.ListenerState{Name: l.name, Address: addr, Bound: l.bound.Load()})
			}
			return out
		},
		Log: lb.log,
	})
	return &adminListener{address: ac.Address, handler: h, server: admin.NewServer(h)}
}
