package proxy

import (
	"crypto/rand"
	"encoding/binary"
	"sync/atomic"

	"github.com/valyala/fasthttp"
)

// hdrRequestID is the request ID's header, both ways.
const hdrRequestID = "X-Request-Id"

// requestIDLen is the length of a generated request ID: 32 lower-case hex
// digits (128 bits, the size of a W3C trace ID): a random prefix drawn
// when the Handler is made, then a counter.
const requestIDLen = 32

// maxRequestIDLen is the longest X-Request-Id kept from a trusted peer;
// a longer one (or one with bytes other than visible ASCII) is replaced.
const maxRequestIDLen = 128

// requestIDs generates the request IDs of one Handler: unique within
// the process (a counter) and across processes and restarts (a random
// 64-bit prefix, drawn by init; the zero value uses zeros). Safe for
// concurrent use, lock-free.
type requestIDs struct {
	prefix [16]byte // hex of 8 random bytes
	n      atomic.Uint64
}

// newRequestIDs draws the prefix.
// init draws the prefix and the counter's start.
func (g *requestIDs) init() {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	appendHex(g.prefix[:0], binary.BigEndian.Uint64(b[:]))
	// Start the counter at a random point too, so two handlers made in
	// one process at once share nothing by chance.
	_, _ = rand.Read(b[:])
	g.n.Store(binary.BigEndian.Uint64(b[:]) >> 16)
}

// next writes the next ID into dst and returns it. It does not allocate.
func (g *requestIDs) next(dst *[requestIDLen]byte) []byte {
	if g.prefix[0] == 0 {
		appendHex(dst[:0], 0) // a Handler not made by NewHandler
	} else {
		copy(dst[:16], g.prefix[:])
	}
	appendHex(dst[16:16], g.n.Add(1))
	return dst[:]
}

// appendHex appends v as 16 lower-case hex digits.
func appendHex(dst []byte, v uint64) []byte {
	const hex = "0123456789abcdef"
	for i := 60; i >= 0; i -= 4 {
		dst = append(dst, hex[(v>>uint(i))&0xf])
	}
	return dst
}

// validRequestID reports whether v may be kept as a request ID: 1 to
// maxRequestIDLen visible ASCII bytes (no space, no control byte).
func validRequestID(v []byte) bool {
	if len(v) == 0 || len(v) > maxRequestIDLen {
		return false
	}
	for _, c := range v {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// assignRequestID decides the request ID of ctx: the client's
// X-Request-Id when the direct peer is a trusted proxy and the value is
// valid (the first such field), else a new one written into buf. The
// request header is left with exactly that ID (a client's other
// X-Request-Id fields, in any case, are removed), so the backend gets
// it. The returned bytes are the header's: they live as long as the
// request. It does not allocate once the header's buffers are warm.
func (h *Handler) assignRequestID(ctx *fasthttp.RequestCtx) []byte {
	hdr := &ctx.Request.Header
	var sent []byte
	n := 0
	for k, v := range hdr.All() {
		if equalFold(k, hdrRequestID) {
			if n == 0 {
				sent = v
			}
			n++
		}
	}
	if n == 1 && validRequestID(sent) && h.trustedPeer(ctx) {
		return sent
	}
	if n > 0 {
		delFold(hdr, hdrRequestID)
	}
	var buf [requestIDLen]byte
	hdr.SetBytesV(hdrRequestID, h.ids.next(&buf))
	// The header's copy, not buf: the ID goes on to the access log,
	// which would make buf escape to the heap.
	return hdr.Peek(hdrRequestID)
}

// delFold deletes every field of h named name, in any case (header
// names are kept as received). It does not allocate.
func delFold(h *fasthttp.RequestHeader, name string) {
	var keyArr [64]byte
	for pass := 0; pass < maxHeaderPasses; pass++ {
		key := keyArr[:0]
		for k := range h.All() {
			if equalFold(k, name) {
				key = append(key, k...)
				break
			}
		}
		if len(key) == 0 {
			return
		}
		h.DelBytes(key)
	}
}

// delFoldResponse is delFold for a response header.
func delFoldResponse(h *fasthttp.ResponseHeader, name string) {
	var keyArr [64]byte
	for pass := 0; pass < maxHeaderPasses; pass++ {
		key := keyArr[:0]
		for k := range h.All() {
			if equalFold(k, name) {
				key = append(key, k...)
				break
			}
		}
		if len(key) == 0 {
			return
		}
		h.DelBytes(key)
	}
}

// setResponseRequestID gives the client the request ID in resp: the
// backend's own X-Request-Id fields, if any, are replaced. It does not
// allocate once the header's buffers are warm.
func setResponseRequestID(resp *fasthttp.ResponseHeader, id []byte) {
	for k := range resp.All() {
		if equalFold(k, hdrRequestID) {
			delFoldResponse(resp, hdrRequestID)
			break
		}
	}
	resp.SetBytesV(hdrRequestID, id)
}

// withRequestID gives resp the request ID req carries (see
// setResponseRequestID), if any, and returns resp.
func withRequestID(resp *fasthttp.ResponseHeader, req *fasthttp.RequestHeader) *fasthttp.ResponseHeader {
	for k, v := range req.All() {
		if equalFold(k, hdrRequestID) {
			setResponseRequestID(resp, v)
			break
		}
	}
	return resp
}
