package proxy

import (
	"crypto/tls"
	"net"
	"net/netip"
	"time"

	"github.com/lbtrust/lb/accesslog"
	"github.com/valyala/fasthttp"
)

// SetAccessLog makes l the listener's access log; nil (the default)
// writes none, and then the request path does nothing for it. A request
// logs to the log set when it began; a stream or WebSocket to the one set
// when its answer began. Safe for concurrent use with ServeHTTP (reload).
// The caller closes a log it replaces, once requests are done with it
// (accesslog.Logger drops what arrives after Close).
func (h *Handler) SetAccessLog(l *accesslog.Logger) { h.alog.Store(l) }

// AccessLog returns the listener's access log, or nil.
func (h *Handler) AccessLog() *accesslog.Logger { return h.alog.Load() }

// logExchange writes the access log line of a request that ended in the
// handler (an answer read whole, the LB's own error or refusal), or hands
// the record to the stream or tunnel that carries the answer on, which
// writes it when it ends. start is when the request began, id its
// request ID. Only called with an access log set.
func (h *Handler) logExchange(l *accesslog.Logger, ctx *fasthttp.RequestCtx, up *upstream, ex *exchange, start time.Time, id []byte) {
	var r accesslog.Record
	h.fillRecord(&r, ctx, start, id)
	if up != nil {
		r.Pool = up.pool.Name()
	}
	if ex.backend != nil {
		r.Backend = ex.backend.Address()
		r.Attempts = ex.retries + 1
	}
	copy(r.Retries[:], ex.why[:])
	r.Rescued = ex.rescued
	r.BackendDuration = ex.waited
	r.BytesIn = ex.bytesIn
	r.Status = ctx.Response.StatusCode()
	switch {
	case ex.stream != nil:
		r.Kind = accesslog.KindStream
		ex.stream.logTo(l, &r)
		return
	case ex.tunnel != nil:
		r.Kind = accesslog.KindWebSocket
		r.Status = fasthttp.StatusSwitchingProtocols
		ex.tunnel.logTo(l, &r)
		return
	}
	r.BytesOut = int64(len(ctx.Response.Body()))
	r.Duration = time.Since(start)
	if ex.failed {
		r.End = failureEnd(ex.fail)
	} else if r.Duration >= abortPeekAfter && peerGone(ctx.Conn()) {
		// The answer is ready but the client has left (NGINX's 499).
		r.End = accesslog.EndClientAbort
	}
	l.Log(&r)
}

// abortPeekAfter is how long a request with a buffered answer must have
// taken for its line to look whether the client is still there (one
// non-blocking peek at the socket, a system call). Clients give up on
// slow answers, not on fast ones: a client that leaves before a faster
// answer is ready is logged as complete, and the peek is not paid on
// every request (it was most of the access log's cost per request).
const abortPeekAfter = 10 * time.Millisecond

// logRefused writes the access log line of a request the listener
// refused before routing it (a malformed request, one over a limit, a
// smuggling attempt), when an access log is set: what of the request
// could be read, the LB's own answer, end refused. Such a request has no
// request ID: it never reached the handler that assigns one. read says
// fasthttp read the request; when it could not (a malformed request line
// or header, a body it gave up on), the request line, Host, User-Agent
// and Referer are left empty rather than showing fasthttp's defaults.
func (h *Handler) logRefused(ctx *fasthttp.RequestCtx, read bool) {
	l := h.alog.Load()
	if l == nil {
		return
	}
	var r accesslog.Record
	if read {
		h.fillRecord(&r, ctx, requestStart(ctx), nil)
	} else {
		r.Time = requestStart(ctx)
		r.Listener = h.name
		r.Client = clientAddrPort(ctx.RemoteAddr())
	}
	r.Status = ctx.Response.StatusCode()
	r.BytesOut = int64(len(ctx.Response.Body()))
	r.End = accesslog.EndRefused
	r.Duration = time.Since(r.Time)
	l.Log(&r)
}

// fillRecord fills what the request itself says: its start, listener,
// client, request line, Host, ID, User-Agent, Referer and TLS.
func (h *Handler) fillRecord(r *accesslog.Record, ctx *fasthttp.RequestCtx, start time.Time, id []byte) {
	hdr := &ctx.Request.Header
	r.Time = start
	r.Listener = h.name
	r.Client = clientAddrPort(ctx.RemoteAddr())
	r.Method = hdr.Method()
	r.Host = hdr.Host()
	r.Target = hdr.RequestURI()
	r.Protocol = hdr.Protocol()
	r.RequestID = id
	r.UserAgent = hdr.UserAgent()
	for k, v := range hdr.All() {
		if equalFold(k, "Referer") {
			r.Referer = v
			break
		}
	}
	if c, ok := ctx.Conn().(interface{ ConnectionState() tls.ConnectionState }); ok {
		st := c.ConnectionState()
		r.TLSVersion, r.SNI = st.Version, st.ServerName
	}
}

// clientAddrPort is a TCP peer's address (zero for any other kind). It
// does not allocate.
func clientAddrPort(a net.Addr) netip.AddrPort {
	t, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.AddrPort{}
	}
	ip, ok := netip.AddrFromSlice(t.IP)
	if !ok {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(t.Port))
}

// failureEnd is who ended a request the client got the LB's error for.
func failureEnd(f failure) accesslog.End {
	switch f {
	case failNoBackend:
		return accesslog.EndNoBackend
	case failConnect, failConnectTimeout:
		return accesslog.EndConnectFailed
	case failClosed, failTransport:
		return accesslog.EndBackendReset
	case failTimeout:
		return accesslog.EndBackendTimeout
	}
	return accesslog.EndRefused
}

// causeEnd is who ended a stream or tunnel that closed for c.
func causeEnd(c closeCause) accesslog.End {
	switch c {
	case causeEnded:
		return accesslog.EndComplete
	case causeClientGone:
		return accesslog.EndClientAbort
	case causeBackendFailed, causeError:
		return accesslog.EndBackendReset
	case causeIdle:
		return accesslog.EndBackendTimeout
	case causeDeregistration:
		return accesslog.EndDeregistration
	case causeShutdown:
		return accesslog.EndShutdown
	}
	return accesslog.EndComplete
}

// retryReason names why a try was retried: the failure, or the status of
// an answer retried for it ("status_502", "status_503", "status_504",
// "status_5xx"). A constant: it does not allocate.
func retryReason(f failure, status int, err error) string {
	if err != nil {
		return f.String()
	}
	switch status {
	case fasthttp.StatusBadGateway:
		return "status_502"
	case fasthttp.StatusServiceUnavailable:
		return "status_503"
	case fasthttp.StatusGatewayTimeout:
		return "status_504"
	}
	return "status_5xx"
}

// taken is how many bytes of the body the upload has taken from the
// client.
func (u *upload) taken() int64 { return int64(len(u.prefix)) + u.read }

// pendingLog is the access log record of a long exchange (a stream or a
// tunnel), written when it ends. Its byte fields are owned (copied out
// of the request), since the request is gone by then.
type pendingLog struct {
	l   *accesslog.Logger
	rec accesslog.Record
}

// newPendingLog copies r, with its bytes, for l. One allocation for the
// record and one for its bytes.
func newPendingLog(l *accesslog.Logger, r *accesslog.Record) *pendingLog {
	p := &pendingLog{l: l}
	r.CopyTo(&p.rec, nil)
	return p
}

// finish writes the line of the exchange, which ended for cause after
// in and out bytes.
func (p *pendingLog) finish(cause closeCause, in, out int64) {
	r := &p.rec
	r.End = causeEnd(cause)
	if in >= 0 {
		r.BytesIn = in
	}
	r.BytesOut = out
	r.Duration = time.Since(r.Time)
	p.l.Log(r)
}

// logTo makes s write r, completed, to l when it ends. Call it before the
// handler returns (fasthttp finishes s only afterwards).
func (s *stream) logTo(l *accesslog.Logger, r *accesslog.Record) { s.alog = newPendingLog(l, r) }

// logTo makes t write r, completed, to l when it ends. Call it before the
// handler returns (fasthttp runs t only afterwards).
func (t *tunnel) logTo(l *accesslog.Logger, r *accesslog.Record) {
	t.alog.Store(newPendingLog(l, r))
}

// requestStart is when ctx's request began: when fasthttp read it, or now
// for a context fasthttp did not serve.
func requestStart(ctx *fasthttp.RequestCtx) time.Time {
	if t := ctx.Time(); !t.IsZero() {
		return t
	}
	return time.Now()
}
