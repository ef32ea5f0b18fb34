// Package proxy is the LB's request path: a fasthttp handler that routes a
// request by Host and path prefix to a pool, picks a backend from it,
// forwards the request with that backend's BackendClient (a
// fasthttp.HostClient that tracks its connections), and turns
// every way this can fail into a small JSON answer (503 no backend, 502
// backend error, 504 backend timeout).
//
// Forwarding follows what operators expect of HAProxy, Envoy or an ALB:
// hop-by-hop header fields are stripped both ways, X-Forwarded-For is
// appended to and X-Forwarded-Proto/-Host are kept from a trusted proxy
// (SetTrustedProxies) and replaced otherwise, Host, header name case
// and the path are sent as received. A failed try is sent again to
// another backend of the pool when the upstream's RetryPolicy allows it:
// by default a request that never reached a backend, or an idempotent one
// whose connection was reset, once, within a retry budget per upstream
// (a share of its requests, plus a few per second); the HostClient's own
// same-host retries are off. fasthttp.ErrNoFreeConns is local
// saturation: 503, never held against the backend or retried.
//
// Nothing in the package keeps a RequestCtx, Request, Response or their
// bytes after the handler returns, and the package has no package-level
// mutable state.
package proxy

import (
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/lbtrust/lb/accesslog"
	"github.com/valyala/fasthttp"
	"go.uber.org/zap"
)

// errUnwired is returned by try for a backend without a BackendClient.
var errUnwired = errors.New("proxy: backend has no *proxy.BackendClient attached")

// Handler is the fasthttp request handler of one listener. Create it with
// NewHandler; it is safe for concurrent use, including SetRoutes while
// requests are served.
type Handler struct {
	name   string
	log    *zap.Logger
	routes atomic.Pointer[table]
	// trusted are the peers whose X-Forwarded-* headers are kept; nil
	// (or an empty list) trusts nobody.
	trusted atomic.Pointer[[]netip.Prefix]
	// rejects counts the requests and connections this listener refused.
	rejects Rejections
	// redirectPort, when not 0, answers every request with a redirect
	// to https on that port (SetRedirectHTTPS).
	redirectPort atomic.Int32
	// upgrades are the listener's open upgraded connections (upgrade.go),
	// streams its answers being relayed as they arrive (stream.go);
	// tunnelIdle is the upgraded connections' idle timeout in ns (0:
	// DefaultIdleTimeout), set by NewServer to the listener's idle
	// timeout.
	upgrades, streams longSet
	tunnelIdle        atomic.Int64
	// streamWrite is the listener's write timeout in ns (0:
	// DefaultWriteTimeout), set by NewServer: a streamed answer's client
	// may take this long over each write.
	streamWrite atomic.Int64
	// bufs holds the streams' copy buffers (*[streamBufferSize]byte).
	bufs sync.Pool
	// ends counts the listener's streams by how they ended.
	ends StreamEnds
	// The listener's request body settings, set by NewServer (a Handler
	// served otherwise gets no streamed bodies from fasthttp):
	// bodyBuffer is request_buffer_size and bodyLimit
	// max_request_body_size, in bytes; bodyRead is body_read_timeout in
	// ns, the wait for each piece of a streamed body.
	bodyBuffer, bodyLimit, bodyRead atomic.Int64
	// alog is the listener's access log (nil: none; accesslog.go); ids
	// generates request IDs (requestid.go).
	alog atomic.Pointer[accesslog.Logger]
	ids  requestIDs
}

// streamBuffer returns a copy buffer for a stream (give it back to
// h.bufs).
func (h *Handler) streamBuffer() *[streamBufferSize]byte {
	if b, ok := h.bufs.Get().(*[streamBufferSize]byte); ok {
		return b
	}
	return new([streamBufferSize]byte)
}

// NewHandler returns the handler of the listener called name (for logs)
// with the given routes. A nil log logs nothing. The handler writes no
// per-request log lines; retries are logged at debug level. It panics if a
// route or the default has a nil Upstream or Pool (a wiring bug).
func NewHandler(name string, routes Routes, log *zap.Logger) *Handler {
	if log == nil {
		log = zap.NewNop()
	}
	h := &Handler{name: name, log: log}
	h.ids.init()
	h.SetRoutes(routes)
	return h
}

// SetRoutes replaces the routing table atomically: a request already
// routed finishes with the old table, the next one uses the new one. Safe
// for concurrent use with ServeHTTP (hot reload). An upstream whose pool
// the old table also routed to keeps its retry budget. It panics like
// NewHandler on a nil Upstream or Pool, before anything is replaced.
// Calls to SetRoutes on one Handler must not overlap (a budget carried
// over could be lost, nothing worse).
func (h *Handler) SetRoutes(r Routes) {
	h.routes.Store(compile(r, h.routes.Load()))
}

// SetTrustedProxies sets the direct peers (by IP prefix) whose
// X-Forwarded-For is appended to and whose X-Forwarded-Proto and
// X-Forwarded-Host are kept; from any other peer X-Forwarded-For is
// replaced by the peer's IP and the other two are set by the proxy. None
// (the default) trusts nobody. A peer that is not a TCP address (an
// in-memory listener) is never trusted. The list is copied; safe for
// concurrent use with ServeHTTP (hot reload).
func (h *Handler) SetTrustedProxies(prefixes []netip.Prefix) {
	if len(prefixes) == 0 {
		h.trusted.Store(nil)
		return
	}
	p := make([]netip.Prefix, len(prefixes))
	for i, pr := range prefixes {
		if a := pr.Addr(); a.Is4In6() && pr.Bits() >= 96 {
			pr = netip.PrefixFrom(a.Unmap(), pr.Bits()-96)
		}
		p[i] = pr.Masked()
	}
	h.trusted.Store(&p)
}

// StreamEnds returns the counts of the listener's streamed answers by how
// they ended (never nil; a client going away is "client_gone", never
// held against the backend); they live as long as the Handler and are
// safe for concurrent use.
func (h *Handler) StreamEnds() *StreamEnds { return &h.ends }

// Rejections returns the listener's refusal counters (never nil); they
// live as long as the Handler and are safe for concurrent use.
func (h *Handler) Rejections() *Rejections { return &h.rejects }

// trustedPeer reports whether the direct peer of ctx is in h's trusted
// proxies. It does not allocate.
func (h *Handler) trustedPeer(ctx *fasthttp.RequestCtx) bool {
	p := h.trusted.Load()
	return p != nil && peerTrusted(*p, ctx.RemoteAddr())
}

// ServeHTTP is the fasthttp.RequestHandler (behind NewServer's refusals,
// which never reach it): it routes ctx by its host (the
// Host header, or the authority of an absolute-form target) and normalized
// path (first matching route, else the default; 404
// with a JSON body when neither), forwards it and leaves the answer in
// ctx.Response. It never panics on request input, never blocks past the
// upstream's response timeout (plus the client write), and allocates
// nothing in the steady state of a successful request. A request to
// switch protocols (a WebSocket handshake; see wantsTunnel) is passed
// through to one backend instead (see upgrade).
//
// Every request gets a request ID (assignRequestID): sent to the backend
// and returned to the client as X-Request-Id. With an access log set,
// each request (or stream, or WebSocket, when it ends) is logged.
func (h *Handler) ServeHTTP(ctx *fasthttp.RequestCtx) {
	id := h.assignRequestID(ctx)
	var ex exchange
	up := h.serve(ctx, &ex)
	setResponseRequestID(&ctx.Response.Header, id)
	if l := h.alog.Load(); l != nil {
		h.logExchange(l, ctx, up, &ex, requestStart(ctx), id)
	}
}

// serve routes, forwards or upgrades ctx, noting what happened in ex,
// and returns the upstream it routed to (nil when none).
func (h *Handler) serve(ctx *fasthttp.RequestCtx, ex *exchange) *upstream {
	if port := h.redirectPort.Load(); port != 0 {
		redirectHTTPS(ctx, int(port))
		return nil
	}
	up := h.routes.Load().match(ctx.Host(), ctx.Path())
	if up == nil {
		writeError(&ctx.Response, fasthttp.StatusNotFound, noRouteBody)
		ex.failWith(failUnwired)
		return nil
	}
	if wantsTunnel(&ctx.Request.Header) {
		*ex = h.upgrade(ctx, up)
		return up
	}
	*ex = h.forward(ctx, up)
	up.stick(ctx, ex.backend)
	return up
}
