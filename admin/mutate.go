package admin

import (
	"errors"
	"strings"

	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
)

// ErrNotFound is wrapped by a Drain/Undrain error for an unknown pool or
// backend: the answer is 404.
var ErrNotFound = errors.New("not found")

// ErrConflict is wrapped by an Undrain error for a backend no operator
// drained: the answer is 409.
var ErrConflict = errors.New("conflict")

// actionBody is the JSON answer of a drain or undrain.
type actionBody struct {
	Action  string             `json:"action"`
	Pool    string             `json:"pool"`
	Backend pool.BackendStatus `json:"backend"`
}

// serveMutating answers the mutating endpoints and reports whether path
// was one of them:
//
//	POST /pools/{pool}/backends/{address}/drain
//	POST /pools/{pool}/backends/{address}/undrain
//	POST /reload
func (h *Handler) serveMutating(ctx *fasthttp.RequestCtx, path string) bool {
	var action, poolName, address string
	switch {
	case path == "/reload":
		action = "reload"
	case strings.HasPrefix(path, "/pools/"):
		// /pools/{pool}/backends/{address}/{action}
		parts := strings.Split(strings.TrimPrefix(path, "/pools/"), "/")
		if len(parts) != 4 || parts[1] != "backends" || (parts[3] != "drain" && parts[3] != "undrain") ||
			parts[0] == "" || parts[2] == "" {
			return false
		}
		poolName, address, action = parts[0], parts[2], parts[3]
	default:
		return false
	}
	if !ctx.IsPost() {
		ctx.Response.Header.Set("Allow", "POST")
		writeJSON(ctx, h.o.Log, fasthttp.StatusMethodNotAllowed, errorBody{Error: "method not allowed: use POST", Path: path})
		return true
	}
	if !h.authorized(ctx, path) {
		return true
	}
	if action == "reload" {
		h.serveReload(ctx, path)
		return true
	}
	act := h.o.Drain
	if action == "undrain" {
		act = h.o.Undrain
	}
	if act == nil {
		writeJSON(ctx, h.o.Log, fasthttp.StatusNotFound, errorBody{Error: "no such backend", Path: path})
		return true
	}
	st, err := act(poolName, address)
	switch {
	case err == nil:
		writeJSON(ctx, h.o.Log, fasthttp.StatusOK, actionBody{Action: action, Pool: poolName, Backend: st})
	case errors.Is(err, ErrNotFound):
		writeJSON(ctx, h.o.Log, fasthttp.StatusNotFound, errorBody{Error: err.Error(), Path: path})
	case errors.Is(err, ErrConflict):
		writeJSON(ctx, h.o.Log, fasthttp.StatusConflict, errorBody{Error: err.Error(), Path: path})
	default:
		writeJSON(ctx, h.o.Log, fasthttp.StatusInternalServerError, errorBody{Error: err.Error(), Path: path})
	}
	return true
}

// serveReload re-reads the configuration: 200 with what changed, or 400
// with the reason and diagnostics (nothing changed).
func (h *Handler) serveReload(ctx *fasthttp.RequestCtx, path string) {
	if h.o.Reload == nil {
		writeJSON(ctx, h.o.Log, fasthttp.StatusNotFound, errorBody{Error: "reload is not available", Path: path})
		return
	}
	code := fasthttp.StatusOK
	if err := h.o.Reload(); err != nil {
		code = fasthttp.StatusBadRequest
	}
	writeJSON(ctx, h.o.Log, code, h.o.Reloads())
}
