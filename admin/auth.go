package admin

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"

	"github.com/valyala/fasthttp"
	"go.uber.org/zap"
)

// Admin access.
//
// With a token set (admin { token } or token_file), the mutating endpoints
// (POST drain, undrain, reload) need "Authorization: Bearer <token>"; a
// missing or wrong one is 401 with WWW-Authenticate: Bearer and nothing
// changes. The read-only endpoints (/healthz, /readyz, /status, /events)
// stay open on purpose: /healthz and /readyz are read by probes and the
// load balancer in front, which must not need a secret, and /status and
// /events show state, never the token. Keep the admin listener on
// loopback or a management network all the same: the token guards the
// actions, not the view. Go's profiles (/debug/pprof/, when turned on)
// need the token too: a profile costs CPU while it runs (pprof.go).
//
// The token is never logged nor shown in any answer.

// SetToken sets the bearer token the mutating endpoints require; "" turns
// the requirement off. A reload calls it when the token changes. Safe for
// concurrent use with requests.
func (h *Handler) SetToken(token string) {
	if token == "" {
		h.token.Store(nil)
		return
	}
	sum := sha256.Sum256([]byte(token))
	h.token.Store(&sum)
}

// TokenRequired reports whether the mutating endpoints need a token.
func (h *Handler) TokenRequired() bool { return h.token.Load() != nil }

// authorized reports whether ctx may use a mutating endpoint; when not, it
// has answered 401. Both sides are hashed before a constant-time compare,
// so neither the token's content nor its length leaks through timing.
func (h *Handler) authorized(ctx *fasthttp.RequestCtx, path string) bool {
	want := h.token.Load()
	if want == nil {
		return true
	}
	given, ok := bearer(ctx.Request.Header.Peek(fasthttp.HeaderAuthorization))
	if ok {
		sum := sha256.Sum256(given)
		if subtle.ConstantTimeCompare(sum[:], want[:]) == 1 {
			return true
		}
	}
	challenge, msg := `Bearer realm="lb-admin"`, "unauthorized: this endpoint needs Authorization: Bearer <admin token>"
	if ok {
		challenge, msg = `Bearer realm="lb-admin", error="invalid_token"`, "unauthorized: wrong admin token"
	}
	h.o.Log.Warn("admin: refused unauthenticated request",
		zap.String("path", path), zap.String("remote", ctx.RemoteAddr().String()),
		zap.Bool("token_given", ok))
	ctx.Response.Header.Set(fasthttp.HeaderWWWAuthenticate, challenge)
	writeJSON(ctx, h.o.Log, fasthttp.StatusUnauthorized, errorBody{Error: msg, Path: path})
	return false
}

// bearer extracts the token of an "Authorization: Bearer <token>" header
// (scheme case-insensitive, RFC 6750). ok is false when there is none.
func bearer(header []byte) (token []byte, ok bool) {
	const scheme = "bearer "
	header = bytes.TrimSpace(header)
	if len(header) <= len(scheme) || !bytes.EqualFold(header[:len(scheme)], []byte(scheme)) {
		return nil, false
	}
	token = bytes.TrimSpace(header[len(scheme):])
	return token, len(token) > 0
}
