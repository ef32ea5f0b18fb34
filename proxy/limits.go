package proxy

import (
	"bytes"
	"errors"
	"net"
	"sync/atomic"

	"github.com/valyala/fasthttp"
	"go.uber.org/zap"
)

// limits are one listener's request limits (ServerOptions with defaults
// applied), with the counters and log its refusals go to. Safe for
// concurrent use: everything but open is read-only after newLimits.
type limits struct {
	h       *Handler // for the access log of refused requests
	o       ServerOptions
	rejects *Rejections
	log     *zap.Logger
	name    string
	// open counts the client connections open now (limitListener).
	open atomic.Int64
}

func newLimits(h *Handler, o ServerOptions, log *zap.Logger) *limits {
	return &limits{h: h, o: o, rejects: h.Rejections(), log: log, name: h.name}
}

// Bodies of the refusals the limits answer themselves.
const (
	bodyTooLargeBody   = `{"error":"request body too large"}`
	headerTooLargeBody = `{"error":"request header too large"}`
	tooManyHeadersBody = `{"error":"too many header fields"}`
	uriTooLongBody     = `{"error":"request URI too long"}`
	timeoutBody        = `{"error":"request timeout"}`
	badRequestBody     = `{"error":"bad request"}`
)

// reject counts one refusal for r and logs it at debug level. remote
// may be nil.
func (l *limits) reject(r Reject, remote net.Addr) {
	l.rejects.Add(r)
	if ce := l.log.Check(zap.DebugLevel, "client refused"); ce != nil {
		fields := []zap.Field{zap.Stringer("reason", r), zap.String("listener", l.name)}
		if remote != nil {
			fields = append(fields, zap.Stringer("remote", remote))
		}
		ce.Write(fields...)
	}
}

// headerVerdict checks the header fasthttp has just read against the
// URI and field-count limits. It returns the reason to refuse, or false.
// It does not allocate.
func (l *limits) headerVerdict(hdr *fasthttp.RequestHeader) (Reject, bool) {
	if len(hdr.RequestURI()) > l.o.MaxURILength {
		return RejectURITooLong, true
	}
	// RawHeaders is the header block as received, one field per line;
	// counting lines counts the fields (and any obs-fold continuation,
	// which fasthttp refuses anyway).
	raw := hdr.RawHeaders()
	n := bytes.Count(raw, []byte("\n"))
	switch {
	case bytes.HasSuffix(raw, []byte("\n\n")), bytes.HasSuffix(raw, []byte("\n\r\n")):
		n-- // the empty line that ends the header
	case len(raw) > 0 && raw[len(raw)-1] != '\n':
		n++
	}
	if n > l.o.MaxHeaderCount {
		return RejectTooManyHeaders, true
	}
	return 0, false
}

// headerReceived is the listener's fasthttp.Server.HeaderReceived hook:
// it runs after the header, before the body, and takes the header's one
// verdict. It gives a body its own read deadline (BodyReadTimeout;
// limitConn caps it at the request's start plus ReadTimeout, and takes
// this deadline as the sign that the header is done). It runs the
// request-smuggling guard (guardHeader), which neutralises the body
// framing of a request it refuses, and the URI and field-count limits,
// whose verdict comes first when both refuse, and the body limit: a
// declared Content-Length over MaxRequestBodySize is refused (413) before
// its body is read. The request body limit fasthttp gets is
// RequestBufferSize: with streamed request bodies it only bounds what
// fasthttp reads before the handler runs. A refused request is marked
// (markRefused) and answered by handler, or by serveError when its body
// fails: for a header over the URI or field-count limit with a
// Content-Length body the body limit is lowered to one byte, so the
// request is refused before its body is read (serveError answers 414 or
// 431, not 413, since fasthttp keeps the header in that case). A chunked
// body is read as usual, and the handler refuses the request: fasthttp
// forgets the header when a chunked body fails. It does not allocate for
// a request it passes.
func (l *limits) headerReceived(hdr *fasthttp.RequestHeader) fasthttp.RequestConfig {
	rc := fasthttp.RequestConfig{ReadTimeout: l.o.BodyReadTimeout, MaxRequestBodySize: l.o.RequestBufferSize}
	gr, guarded := guardHeader(hdr)
	r, bad := l.headerVerdict(hdr)
	switch {
	case bad:
		if hdr.ContentLength() > 0 {
			rc.MaxRequestBodySize = 1
		}
	case guarded:
		r, bad = gr, true
	case hdr.ContentLength() > l.o.MaxRequestBodySize:
		// Refused before a byte of the body is read, and no 100
		// Continue: the body is left unread and the connection closed.
		neutralizeBody(hdr)
		r, bad = RejectBodyTooLarge, true
	}
	if bad {
		markRefused(hdr, r)
	}
	if hdr.ContentLength() == 0 {
		// No body to read: no body deadline either (a deadline costs a
		// reading of the clock and a timer); the header's, which
		// limitConn set, stays until the answer is written.
		rc.ReadTimeout = 0
	}
	return rc
}

// handler returns next behind the refusals headerReceived marked: a
// refused request (one whose body was small enough to be read) is
// answered with its reason's status and JSON body, Connection: close,
// counted, and never reaches next.
func (l *limits) handler(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		if r, ok := refusedReason(ctx); ok {
			l.refuse(ctx, r, true)
			return
		}
		next(ctx)
	}
}

// refuse answers ctx for r (rejectAnswer), closes the connection after
// it, counts it and logs it (reject, and the access log). It is the one
// answer of every request a listener refuses. Nothing is forwarded. read
// says fasthttp read the request (else what ctx holds of it is defaults).
func (l *limits) refuse(ctx *fasthttp.RequestCtx, r Reject, read bool) {
	status, body := rejectAnswer(r)
	writeError(&ctx.Response, status, body)
	ctx.SetConnectionClose()
	l.reject(r, ctx.RemoteAddr())
	l.h.logRefused(ctx, read)
}

// serveError is the fasthttp.Server.ErrorHandler: it answers a request
// the server could not read, and counts why. fasthttp closes the
// connection after it.
func (l *limits) serveError(ctx *fasthttp.RequestCtx, err error) {
	l.refuse(ctx, l.classify(ctx, err), false)
}

// classify names why fasthttp could not read a request: the reason
// headerReceived marked it with when its body was cut short because of
// that mark, else errorVerdict's reading of err.
func (l *limits) classify(ctx *fasthttp.RequestCtx, err error) Reject {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		// With a Content-Length body fasthttp keeps the header, and
		// headerReceived may have lowered the limit because of it.
		if r, ok := refusedReason(ctx); ok {
			return r
		}
	}
	// fasthttp forgets the request when a read fails; the connection
	// knows whether the header was done.
	lc, ok := asLimitConn(ctx.Conn())
	return errorVerdict(err, ok && lc.inBody.Load())
}

// connState is the fasthttp.Server.ConnState hook: it tells limitConn
// when a request starts (its first byte has arrived) and ends.
func (l *limits) connState(c net.Conn, st fasthttp.ConnState) {
	lc, ok := asLimitConn(c)
	if !ok {
		return
	}
	switch st {
	case fasthttp.StateActive:
		lc.requestStarted()
	case fasthttp.StateIdle, fasthttp.StateHijacked:
		lc.requestEnded()
	}
}
