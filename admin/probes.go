package admin

import (
	"fmt"

	"github.com/lbtrust/lb/pool"

	"github.com/valyala/fasthttp"
)

// Probe body statuses.
const (
	statusOK           = "ok"
	statusDegraded     = "degraded"
	statusShuttingDown = "shutting_down"
)

// probeBody is the JSON body of /healthz and /readyz.
type probeBody struct {
	Status        string           `json:"status"`
	Version       string           `json:"version"`
	UptimeSeconds int64            `json:"uptime_seconds"`
	Checks        map[string]check `json:"checks"`
}

// check is one named readiness condition.
type check struct {
	Status string `json:"status"` // "ok" or "fail"
	Detail string `json:"detail,omitempty"`
}

// serveHealthz is shallow liveness: 200 while the process can answer, even
// while shutting down (a liveness failure would get the process killed
// mid-drain); the body says shutting_down then.
func (h *Handler) serveHealthz(ctx *fasthttp.RequestCtx) {
	b := probeBody{Status: statusOK, Version: h.o.Version, UptimeSeconds: h.uptime(), Checks: map[string]check{}}
	if h.ShuttingDown() {
		b.Status = statusShuttingDown
	}
	writeJSON(ctx, h.o.Log, fasthttp.StatusOK, b)
}

// serveReadyz is deep readiness: 200 "ok" when every listener is bound and
// the pools with a healthy backend satisfy ready_pools (by default every
// pool has one); 503 "degraded" when any of those fails; 503
// "shutting_down" once shutdown began. Each condition is listed under
// checks as "listener:NAME" or "pool:NAME" (a pool with no healthy
// backend is "fail" whatever ready_pools says), and the rule as "pools",
// which is what decides; a pool's detail also
// names each discovery source that is stale (its last read failed; the
// pool keeps the last set it read) or not read yet. A stale source alone
// does not fail readiness: the backends it listed still serve. With a
// fleet block, check "fleet" says whether this instance shares its checks
// or, etcd unreachable, probes everything itself; it never fails.
func (h *Handler) serveReadyz(ctx *fasthttp.RequestCtx) {
	b := probeBody{Status: statusOK, Version: h.o.Version, UptimeSeconds: h.uptime(), Checks: map[string]check{}}
	ok := true
	for _, l := range h.o.Listeners() {
		c := check{Status: "ok", Detail: "bound to " + l.Address}
		if !l.Bound {
			c = check{Status: "fail", Detail: "not bound: " + l.Address}
			ok = false
		}
		b.Checks["listener:"+l.Name] = c
	}
	pools := h.o.Pools()
	serving := 0
	for _, p := range pools {
		healthy, total := p.Healthy(), len(p.Backends())
		c := check{Status: "ok", Detail: fmt.Sprintf("%d of %d backends healthy", healthy, total)}
		if mode := p.Mode(); mode != "normal" {
			c.Detail += fmt.Sprintf("; routing mode %s across %d backends", mode, p.Eligible())
		}
		for _, s := range p.Sources() {
			switch s.State {
			case pool.SourceStale:
				c.Detail += fmt.Sprintf("; discovery %s stale (%s)", s.Source, s.LastError)
			case pool.SourcePending:
				c.Detail += fmt.Sprintf("; discovery %s not read yet", s.Source)
			}
		}
		if healthy == 0 {
			c.Status = "fail"
		} else {
			serving++
		}
		b.Checks["pool:"+p.Name()] = c
	}
	pc := poolsCheck(PoolReadiness(h.readyPools.Load()), serving, len(pools))
	ok = ok && pc.Status == "ok"
	b.Checks["pools"] = pc
	if h.o.Fleet != nil {
		if f := h.o.Fleet(); f != nil {
			b.Checks["fleet"] = check{Status: "ok", Detail: f.readyDetail()}
		}
	}
	code := fasthttp.StatusOK
	switch {
	case h.ShuttingDown():
		b.Status, code = statusShuttingDown, fasthttp.StatusServiceUnavailable
	case !ok:
		b.Status, code = statusDegraded, fasthttp.StatusServiceUnavailable
	}
	writeJSON(ctx, h.o.Log, code, b)
}
