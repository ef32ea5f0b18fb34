// Package admin serves the load balancer's own endpoints on the admin
// listener: shallow liveness (/healthz), deep readiness (/readyz), the
// status of every pool and backend (/status), the recent events (/events),
// the Prometheus metrics (/metrics, metrics.go) and an HTML status page for
// operators (/, page.go). It only reads pool
// views; the mutating endpoints (mutate.go) act through functions the
// wiring gives it, behind an optional bearer token (auth.go). Go's runtime
// profiles (/debug/pprof/, pprof.go) are served only when turned on.
package admin

import (
	"crypto/sha256"
	"sync/atomic"
	"time"

	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
	"go.uber.org/zap"
)

// ListenerState says whether one traffic listener is bound, how many
// client connections it holds and what it has refused.
type ListenerState struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Bound   bool   `json:"bound"`
	// Connections is the number of client connections open now.
	Connections int64 `json:"connections"`
	// Rejections counts the requests and connections the listener
	// refused, by reason (every reason, zeros included); nil is shown as
	// {}.
	Rejections map[string]uint64 `json:"rejections"`
	// Streams are the listener's answers relayed as they arrive.
	Streams StreamsState `json:"streams"`
	// AccessLog counts the listener's access log lines; absent without
	// an access_log block.
	AccessLog *AccessLogState `json:"access_log,omitempty"`
}

// AccessLogState counts what became of a listener's access log lines.
type AccessLogState struct {
	// Written lines went out; Dropped were not queued because the writer
	// was behind (the queue was full); Failed were lost to a failed
	// write; SampledOut are 2xx lines left out by sample_2xx.
	Written    uint64 `json:"written"`
	Dropped    uint64 `json:"dropped"`
	Failed     uint64 `json:"failed"`
	SampledOut uint64 `json:"sampled_out"`
}

// StreamsState is what a listener's streamed answers (Server-Sent Events,
// large downloads) are doing.
type StreamsState struct {
	// Open is how many are open now.
	Open int `json:"open"`
	// Ended counts those that ended, by how: complete, backend_failed,
	// backend_idle, client_gone, deregistration, shutdown (every key
	// present, zeros included; nil is shown as {}).
	Ended map[string]uint64 `json:"ended"`
}

// Options wire the admin handler to the running load balancer. The
// functions are called on every request and must be safe for concurrent
// use; they let a reload swap pools and listeners under the handler.
type Options struct {
	// Version is reported in every body.
	Version string
	// Started is the process start, for uptime_seconds.
	Started time.Time
	// Pools returns the pools now in service.
	Pools func() []*pool.Pool
	// Listeners returns the traffic listeners and whether each is bound.
	Listeners func() []ListenerState
	// Drain and Undrain act on one backend for POST
	// /pools/{pool}/backends/{address}/drain and .../undrain. Their errors
	// should wrap ErrNotFound (404) or ErrConflict (409); others are 500.
	// Nil answers 404 for every backend.
	Drain, Undrain func(pool, address string) (pool.BackendStatus, error)
	// Reload re-reads the configuration file for POST /reload; an error
	// means nothing changed (400 with the error). Nil answers 404.
	Reload func() error
	// Reloads reports the latest reload attempt, shown in /status and
	// returned by POST /reload. Nil reports none.
	Reloads func() ReloadStatus
	// Events serves GET /events; nil serves an empty list.
	Events EventSource
	// Metrics serves GET /metrics (metrics.go); nil answers 404.
	Metrics fasthttp.RequestHandler
	// Token, when not empty, is the bearer token the mutating endpoints
	// require (see SetToken; auth.go says why reads stay open).
	Token string
	// Pprof serves Go's runtime profiles under /debug/pprof/ (pprof.go;
	// see SetPprof).
	Pprof bool
	// ReadyPools says which pools /readyz requires a healthy backend in
	// (see PoolReadiness and SetReadyPools); the zero value is EveryPool.
	ReadyPools PoolReadiness
	// Fleet reports this instance's place in a fleet sharing health
	// checks (/status "fleet", /readyz check "fleet"); nil, or a nil
	// result, when there is no fleet block.
	Fleet func() *FleetState
	// Log receives errors writing answers; nil logs nothing.
	Log *zap.Logger
}

// ReloadStatus is the outcome of the latest configuration reload attempt.
type ReloadStatus struct {
	// At is when it was attempted; zero before the first.
	At time.Time `json:"at"`
	// OK is true when the new configuration was applied.
	OK bool `json:"ok"`
	// Error says why it was refused ("" when OK).
	Error string `json:"error,omitempty"`
	// Diagnostics are the positioned configuration errors
	// ("lb.hcl:12,5-9: summary; detail"), when the file was invalid.
	Diagnostics []string `json:"diagnostics,omitempty"`
	// Changes lists what an applied reload changed.
	Changes []string `json:"changes,omitempty"`
}

// Handler answers the admin endpoints. Safe for concurrent use.
type Handler struct {
	o            Options
	shuttingDown atomic.Bool
	token        atomic.Pointer[[sha256.Size]byte] // SHA-256 of the token; nil: none needed
	pprof        atomic.Bool                       // serve /debug/pprof/ (pprof.go)
	readyPools   atomic.Int32                      // a PoolReadiness (readiness.go)
}

// New returns a Handler. Nil Pools or Listeners functions are taken as
// returning nothing.
func New(o Options) *Handler {
	if o.Pools == nil {
		o.Pools = func() []*pool.Pool { return nil }
	}
	if o.Listeners == nil {
		o.Listeners = func() []ListenerState { return nil }
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Reloads == nil {
		o.Reloads = func() ReloadStatus { return ReloadStatus{} }
	}
	if o.Started.IsZero() {
		o.Started = time.Now()
	}
	h := &Handler{o: o}
	h.SetToken(o.Token)
	h.o.Token = "" // kept only hashed
	h.SetPprof(o.Pprof)
	h.SetReadyPools(o.ReadyPools)
	return h
}

// SetShuttingDown makes /readyz answer 503 "shutting_down" from now on, so
// the tier in front stops sending new connections. It cannot be undone.
func (h *Handler) SetShuttingDown() { h.shuttingDown.Store(true) }

// ShuttingDown reports whether SetShuttingDown was called.
func (h *Handler) ShuttingDown() bool { return h.shuttingDown.Load() }

// ServeHTTP routes an admin request. The read-only endpoints accept GET and
// HEAD, the mutating ones (drain, undrain, reload) only POST; anything else
// is 405. Unknown paths get 404, as do the profiles under /debug/pprof/
// unless they are turned on (pprof.go). Every answer is JSON but /metrics,
// the profiles and the status page at / (page.go).
func (h *Handler) ServeHTTP(ctx *fasthttp.RequestCtx) {
	path := string(ctx.Path())
	if h.serveMutating(ctx, path) || h.serveMetrics(ctx, path) || h.servePprof(ctx, path) {
		return
	}
	switch path {
	case "/", "/healthz", "/readyz", "/status", "/events":
	default:
		writeJSON(ctx, h.o.Log, fasthttp.StatusNotFound, errorBody{Error: "not found", Path: path})
		return
	}
	if !ctx.IsGet() && !ctx.IsHead() {
		ctx.Response.Header.Set("Allow", "GET, HEAD")
		writeJSON(ctx, h.o.Log, fasthttp.StatusMethodNotAllowed, errorBody{Error: "method not allowed", Path: path})
		return
	}
	switch path {
	case "/":
		h.servePage(ctx)
	case "/healthz":
		h.serveHealthz(ctx)
	case "/readyz":
		h.serveReadyz(ctx)
	case "/status":
		h.serveStatus(ctx)
	case "/events":
		h.serveEvents(ctx)
	}
}

// uptime is whole seconds since start.
func (h *Handler) uptime() int64 { return int64(time.Since(h.o.Started) / time.Second) }

// NewServer returns a fasthttp server for the admin handler with short
// timeouts: the admin listener is for operators and probes, not traffic.
func NewServer(h *Handler) *fasthttp.Server {
	return &fasthttp.Server{
		Handler:               h.ServeHTTP,
		Name:                  "lb-admin",
		ReadTimeout:           10 * time.Second,
		WriteTimeout:          10 * time.Second,
		IdleTimeout:           60 * time.Second,
		MaxRequestBodySize:    1 << 20,
		NoDefaultServerHeader: true,
		NoDefaultDate:         false,
	}
}
