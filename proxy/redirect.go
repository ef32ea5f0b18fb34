package proxy

import (
	"bytes"
	"strconv"

	"github.com/valyala/fasthttp"
)

// badRedirectHostBody answers a request whose host cannot be put in a
// Location header.
const badRedirectHostBody = `{"error":"no valid host to redirect to"}`

// SetRedirectHTTPS makes the listener answer every request with
// 308 Permanent Redirect to https://HOST[:port]TARGET instead of
// forwarding it: HOST is the request's host as sent (Host header, or the
// authority of an absolute-form target) without its port, TARGET the
// path and query as the client sent them. Port 443 is left out of the
// Location. port 0 turns redirecting off (the default), so requests are
// routed again. A request whose host is missing or not a DNS name or IP
// literal gets 400. Safe for concurrent use with ServeHTTP (hot reload).
func (h *Handler) SetRedirectHTTPS(port int) {
	if port < 0 || port > 65535 {
		port = 0
	}
	h.redirectPort.Store(int32(port))
}

// redirectHTTPS writes the 308 to https for ctx. It allocates nothing
// once ctx's buffers are warm and the Location fits 512 bytes.
func redirectHTTPS(ctx *fasthttp.RequestCtx, port int) {
	raw := ctx.Request.Header.RequestURI()
	hostHeader := ctx.Request.Header.Host()
	if len(raw) > 0 && raw[0] != '/' && raw[0] != '*' {
		// Absolute form: the target's authority is the host (RFC 9112).
		hostHeader = ctx.URI().Host()
	}
	host, ok := redirectHost(hostHeader)
	if !ok {
		writeError(&ctx.Response, fasthttp.StatusBadRequest, badRedirectHostBody)
		return
	}
	var arr [512]byte
	loc := append(arr[:0], "https://"...)
	loc = append(loc, host...)
	if port != 443 {
		loc = append(loc, ':')
		loc = strconv.AppendInt(loc, int64(port), 10)
	}
	loc = append(loc, redirectTarget(raw)...)
	resp := &ctx.Response
	resp.Reset()
	resp.SetStatusCode(fasthttp.StatusPermanentRedirect)
	resp.Header.SetBytesV("Location", loc)
}

// redirectHost returns host without its port, and false when what is
// left is empty or not a plausible DNS name or bracketed IPv6 literal
// (so nothing odd ends up in the Location header).
func redirectHost(host []byte) ([]byte, bool) {
	if len(host) > 0 && host[0] == '[' {
		end := bytes.IndexByte(host, ']')
		if end < 0 {
			return nil, false
		}
		rest := host[end+1:]
		if len(rest) > 0 && !validPortSuffix(rest) {
			return nil, false
		}
		for _, c := range host[1:end] {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.') {
				return nil, false
			}
		}
		return host[:end+1], end > 1
	}
	if i := bytes.IndexByte(host, ':'); i >= 0 {
		if !validPortSuffix(host[i:]) {
			return nil, false
		}
		host = host[:i]
	}
	for _, c := range host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return nil, false
		}
	}
	return host, len(host) > 0
}

// validPortSuffix reports whether s is ":" followed by digits only.
func validPortSuffix(s []byte) bool {
	if len(s) < 2 || s[0] != ':' {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// redirectTarget is the path and query of a request target as sent: an
// origin-form target as it is, the path part of an absolute-form one, and
// "/" for anything else ("*").
func redirectTarget(uri []byte) []byte {
	if len(uri) > 0 && uri[0] == '/' {
		return uri
	}
	if i := bytes.Index(uri, []byte("://")); i >= 0 {
		rest := uri[i+3:]
		if j := bytes.IndexAny(rest, "/?"); j >= 0 {
			if rest[j] == '/' {
				return rest[j:]
			}
		}
	}
	return []byte("/")
}
