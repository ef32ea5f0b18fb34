package proxy

import (
	"github.com/valyala/fasthttp"
	"go.uber.org/zap"
)

// refusedMark is the header a refused request is marked with between the
// server's HeaderReceived hook and the Handler. Its NUL byte can never
// arrive from the wire (fasthttp refuses it in a header name), so only
// the guard sets it; its one-byte value is '0' plus the Reject.
const refusedMark = "\x00lb-refused"

// guardHeader is the listener's fasthttp.Server.HeaderReceived hook: it
// runs after the request header is read and before the body is. A
// request classifyRequest refuses has its body framing neutralised
// (Content-Length 0, no Transfer-Encoding, no Expect, so fasthttp reads
// no body and sends no 100 Continue), is marked with refusedMark and
// "Connection: close", and ServeHTTP answers it with refuse without
// forwarding anything; the client connection is closed after the answer.
// It returns the zero RequestConfig (the server's own limits apply) and
// does not allocate for a request it passes.
func (h *Handler) guardHeader(hdr *fasthttp.RequestHeader) fasthttp.RequestConfig {
	r, refused := classifyRequest(hdr.Method(), hdr.Protocol(), hdr.RawHeaders())
	if refused {
		hdr.SetContentLength(0)
		hdr.Del("Expect")
		hdr.SetConnectionClose()
		hdr.SetBytesV(refusedMark, []byte{'0' + byte(r)})
	}
	return fasthttp.RequestConfig{}
}

// refusedReason returns the reason guardHeader marked ctx's request with,
// if it did. It costs one flag test for a request that is not closing its
// connection.
func refusedReason(ctx *fasthttp.RequestCtx) (Reject, bool) {
	hdr := &ctx.Request.Header
	if !hdr.ConnectionClose() {
		return 0, false
	}
	v := hdr.Peek(refusedMark)
	if len(v) != 1 || v[0] < '0' || Reject(v[0]-'0') >= NumRejects {
		return 0, false
	}
	return Reject(v[0] - '0'), true
}

// refuse answers a request refused for r with r's status and a fixed JSON
// body, closes the client connection after the answer, counts r in the
// listener's Rejections and logs the refusal at debug level. Nothing is
// forwarded.
func (h *Handler) refuse(ctx *fasthttp.RequestCtx, r Reject) {
	status, body := rejectAnswer(r)
	writeError(&ctx.Response, status, body)
	ctx.SetConnectionClose()
	h.rejects.Add(r)
	if ce := h.log.Check(zap.DebugLevel, "request refused"); ce != nil {
		ce.Write(
			zap.String("listener", h.name),
			zap.String("reason", r.String()),
			zap.Int("status", status),
			zap.Stringer("client", ctx.RemoteAddr()),
		)
	}
}

// rejectAnswer is the status and JSON body a request refused for r gets.
func rejectAnswer(r Reject) (int, string) {
	switch r {
	case RejectVersion:
		return fasthttp.StatusHTTPVersionNotSupported, `{"error":"http version not supported"}`
	case RejectTransferCoding:
		return fasthttp.StatusNotImplemented, `{"error":"transfer coding not implemented"}`
	case RejectMissingHost:
		return fasthttp.StatusBadRequest, `{"error":"missing host header"}`
	case RejectDesyncSevere, RejectDesyncAmbiguous:
		return fasthttp.StatusBadRequest, `{"error":"ambiguous request framing"}`
	case RejectBodyTooLarge:
		return fasthttp.StatusRequestEntityTooLarge, bodyTooLargeBody
	case RejectHeaderTooLarge:
		return fasthttp.StatusRequestHeaderFieldsTooLarge, headerTooLargeBody
	case RejectTooManyHeaders:
		return fasthttp.StatusRequestHeaderFieldsTooLarge, tooManyHeadersBody
	case RejectURITooLong:
		return fasthttp.StatusRequestURITooLong, uriTooLongBody
	case RejectHeaderTimeout, RejectBodyTimeout:
		return fasthttp.StatusRequestTimeout, timeoutBody
	}
	return fasthttp.StatusBadRequest, badRequestBody
}
