package proxy

import (
	"net"
	"net/netip"

	"github.com/valyala/fasthttp"
)

// Header names the proxy sets. Header names arrive with their case as the
// client or backend wrote it (normalization is off both ways), so every
// comparison below folds ASCII case.
const (
	hdrConnection      = "Connection"
	hdrXForwardedFor   = "X-Forwarded-For"
	hdrXForwardedProto = "X-Forwarded-Proto"
	hdrXForwardedHost  = "X-Forwarded-Host"
)

// maxHeaderPasses bounds the delete loops below: a header fasthttp would
// not delete (it should not happen) must not spin a request forever.
const maxHeaderPasses = 64

// isHopByHop reports whether k is one of the fixed hop-by-hop fields
// (RFC 9110 section 7.6.1 and the legacy ones every proxy strips).
func isHopByHop(k []byte) bool {
	switch len(k) {
	case 2:
		return equalFold(k, "TE")
	case 7:
		return equalFold(k, "Trailer") || equalFold(k, "Upgrade")
	case 10:
		return equalFold(k, hdrConnection) || equalFold(k, "Keep-Alive")
	case 16:
		return equalFold(k, "Proxy-Connection")
	case 17:
		return equalFold(k, "Transfer-Encoding")
	case 18:
		return equalFold(k, "Proxy-Authenticate")
	case 19:
		return equalFold(k, "Proxy-Authorization")
	}
	return false
}

// isFraming reports whether k is a field a Connection header may not
// remove: Host and Content-Length carry routing and message framing, and a
// peer naming them in Connection is confused or hostile.
func isFraming(k []byte) bool {
	return equalFold(k, "Host") || equalFold(k, "Content-Length")
}

// inTokenList reports whether k is one of the comma-separated tokens of
// list (a Connection header value), ignoring case and optional whitespace.
func inTokenList(list, k []byte) bool {
	for len(list) > 0 {
		i := 0
		for i < len(list) && list[i] != ',' {
			i++
		}
		tok := trimOWS(list[:i])
		if len(tok) == len(k) && equalFold(tok, string(k)) {
			return true
		}
		if i == len(list) {
			break
		}
		list = list[i+1:]
	}
	return false
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// prepareRequest fills out, the request sent to backends, from in, the
// request as the client sent it: the header is copied (the caller sets
// the body: see Handler.takeBody), the hop-by-hop fields and those the
// client's Connection header names are dropped, so are trailer fields
// (dropTrailers), Expect is dropped (the
// server already answered 100-continue and read the body),
// X-Forwarded-For, X-Forwarded-Proto and X-Forwarded-Host depend on
// trusted (whether the direct peer is a trusted proxy): from a trusted
// peer X-Forwarded-For gets the peer IP appended to whatever it sent (all
// its X-Forwarded-For fields joined into one) and X-Forwarded-Proto and
// X-Forwarded-Host are kept as sent (set when absent); from any other
// peer X-Forwarded-For is the peer IP alone and the other two are set by
// the proxy, whatever the client sent. Host is kept as
// received (for an absolute-form target, the target's authority replaces
// it, as RFC 9112 requires) and the protocol becomes HTTP/1.1. It does not
// allocate once out's buffers are warm.
func prepareRequest(out *fasthttp.Request, ctx *fasthttp.RequestCtx, trusted bool) {
	in := &ctx.Request
	in.Header.CopyTo(&out.Header)
	out.UseHostHeader = true
	h := &out.Header
	if !h.IsHTTP11() {
		h.SetProtocol("HTTP/1.1")
	}
	if ri := h.RequestURI(); len(ri) > 0 && ri[0] != '/' && ri[0] != '*' {
		// Absolute form (RFC 9112 section 3.2.2): the target's authority
		// replaces Host. The scheme is "http" even for a TLS backend: the
		// HostClient speaks HTTP/1.1 over whatever connection its dialer
		// returns, and BackendClient's dialer does the TLS handshake.
		u := out.URI()
		h.SetHostBytes(u.Host())
		u.SetScheme("http")
	}

	var connArr [128]byte
	var xffArr [256]byte
	conn, xff := connArr[:0], xffArr[:0]
	// drop: a field to delete was seen (a Connection field is one, so a
	// field it names is found by the passes below).
	var hasProto, hasHost, drop bool
	for k, v := range h.All() {
		switch {
		case equalFold(k, hdrConnection):
			conn = append(append(conn, v...), ',')
		case isHopByHop(k), equalFold(k, "Expect"):
			drop = true
		case equalFold(k, hdrXForwardedFor):
			drop = true
			if !trusted {
				break
			}
			if len(xff) > 0 {
				xff = append(xff, ", "...)
			}
			xff = append(xff, v...)
		case equalFold(k, hdrXForwardedProto):
			hasProto = trusted
			drop = drop || !trusted
		case equalFold(k, hdrXForwardedHost):
			hasHost = trusted
			drop = drop || !trusted
		}
	}
	drop = drop || len(conn) > 0

	dropTrailers(h)
	var keyArr [64]byte
	pass := 0
	for ; drop && pass < maxHeaderPasses; pass++ {
		key := keyArr[:0]
		for k := range h.All() {
			if isHopByHop(k) || (inTokenList(conn, k) && !isFraming(k)) || equalFold(k, "Expect") ||
				equalFold(k, hdrXForwardedFor) ||
				(!trusted && (equalFold(k, hdrXForwardedProto) || equalFold(k, hdrXForwardedHost))) {
				key = append(key, k...)
				break
			}
		}
		if len(key) == 0 {
			break
		}
		h.DelBytes(key)
	}
	h.ResetConnectionClose()

	if len(xff) > 0 {
		xff = append(xff, ", "...)
	}
	xff = appendClientIP(xff, ctx.RemoteAddr())
	// None of the three is left when it is put (deleted above, or
	// absent), unless the passes ran out: put then replaces one as Set.
	put := putter{h: h, set: pass == maxHeaderPasses}
	put.field(hdrXForwardedFor, xff)
	if !hasProto {
		if ctx.IsTLS() {
			put.field(hdrXForwardedProto, []byte("https"))
		} else {
			put.field(hdrXForwardedProto, []byte("http"))
		}
	}
	if host := h.Host(); len(host) > 0 && !hasHost {
		put.field(hdrXForwardedHost, host)
	}
}

// putter puts the X-Forwarded-* fields into a request header: with Add,
// which appends without looking for a field of the same name, when none
// can be there, else (set) with Set.
type putter struct {
	h   *fasthttp.RequestHeader
	set bool
}

func (p putter) field(k string, v []byte) {
	if p.set {
		p.h.SetBytesV(k, v)
	} else {
		p.h.AddBytesV(k, v)
	}
}

// trailerHeader is what dropTrailers needs of a Request- or
// ResponseHeader.
type trailerHeader interface {
	PeekTrailerKeys() [][]byte
	DelBytes(key []byte)
}

// dropTrailers removes the trailer fields of a chunked message (fasthttp
// keeps them apart from the header section) before the Trailer field is
// stripped as hop-by-hop, which would otherwise move them into the
// header section: a field the sender put after the body must not become
// a header the next hop trusts (RFC 9110 section 6.5.2). A header field
// with the same name as a trailer field goes too. The proxy re-frames
// bodies with Content-Length, which has no place for trailers. It does not
// allocate.
func dropTrailers(h trailerHeader) {
	keys := h.PeekTrailerKeys()
	for i := 0; i < len(keys) && i < maxHeaderPasses; i++ {
		h.DelBytes(keys[i])
	}
}

// peerTrusted reports whether a, a direct peer's address, is in one of
// the prefixes. Only a TCP address with an IP can be trusted. It does not
// allocate.
func peerTrusted(prefixes []netip.Prefix, a net.Addr) bool {
	t, ok := a.(*net.TCPAddr)
	if !ok {
		return false
	}
	ip, ok := netip.AddrFromSlice(t.IP)
	if !ok {
		return false
	}
	ip = ip.Unmap()
	for _, p := range prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// cleanResponse drops the hop-by-hop fields of a backend's answer, those
// its Connection header names and its trailer fields, and forgets a "Connection: close" the
// backend sent (that concerns the backend connection, not the client's).
// It does not allocate.
func cleanResponse(h *fasthttp.ResponseHeader) {
	var connArr [128]byte
	conn := connArr[:0]
	drop := false // a hop-by-hop field was seen (Connection is one)
	for k, v := range h.All() {
		if isHopByHop(k) {
			drop = true
			if equalFold(k, hdrConnection) {
				conn = append(append(conn, v...), ',')
			}
		}
	}
	dropTrailers(h)
	var keyArr [64]byte
	for pass := 0; drop && pass < maxHeaderPasses; pass++ {
		key := keyArr[:0]
		for k := range h.All() {
			if isHopByHop(k) || (inTokenList(conn, k) && !isFraming(k)) {
				key = append(key, k...)
				break
			}
		}
		if len(key) == 0 {
			break
		}
		h.DelBytes(key)
	}
	h.ResetConnectionClose()
}

// appendClientIP appends the client's IP in text form ("192.0.2.1",
// "2001:db8::1"; an IPv4-mapped address in its IPv4 form). An address that
// is not TCP (an in-memory listener) appends "unknown", as RFC 7239
// suggests for an unknown node.
func appendClientIP(dst []byte, a net.Addr) []byte {
	if t, ok := a.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(t.IP); ok {
			return ip.Unmap().AppendTo(dst)
		}
	}
	return append(dst, "unknown"...)
}
