package proxy

import "github.com/valyala/fasthttp"

// refusedMark is the header a refused request is marked with between the
// server's HeaderReceived hook (limits.headerReceived) and the handler or
// error handler. Its NUL byte can never arrive from the wire (fasthttp
// refuses it in a header name), so only markRefused sets it; its one-byte
// value is '0' plus the Reject.
const refusedMark = "\x00lb-refused"

// guardHeader runs the request-smuggling classifier on a header fasthttp
// has just read, before the body is (limits.headerReceived calls it). A
// request classifyRequest refuses has its body framing neutralised
// (Content-Length 0, no Transfer-Encoding, no Expect, so fasthttp reads no
// body and sends no 100 Continue) and guardHeader returns the reason and
// true; the caller marks it (markRefused), and nothing of it is
// forwarded. It does not allocate for a request it passes.
func guardHeader(hdr *fasthttp.RequestHeader) (Reject, bool) {
	r, refused := classifyRequest(hdr.Method(), hdr.Protocol(), hdr.RawHeaders())
	if refused {
		neutralizeBody(hdr)
	}
	return r, refused
}

// neutralizeBody makes fasthttp read no body for a refused request and
// send no 100 Continue: Content-Length 0, no Transfer-Encoding, no Expect.
func neutralizeBody(hdr *fasthttp.RequestHeader) {
	hdr.SetContentLength(0)
	hdr.Del("Expect")
}

// markRefused marks hdr refused for r: refusedMark and "Connection:
// close", for refusedReason to find in the handler or the error handler.
func markRefused(hdr *fasthttp.RequestHeader, r Reject) {
	hdr.SetConnectionClose()
	hdr.SetBytesV(refusedMark, []byte{'0' + byte(r)})
}

// refusedReason returns the reason markRefused marked ctx's request with,
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
