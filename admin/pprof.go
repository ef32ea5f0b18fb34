package admin

import (
	"strings"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/pprofhandler"
)

// pprofPrefix starts every profiling path: net/http/pprof's layout, so
// `go tool pprof http://ADMIN/debug/pprof/profile?seconds=30` works as it
// does against any Go server.
const pprofPrefix = "/debug/pprof/"

// SetPprof turns the profiling endpoints (admin { pprof = true }) on or
// off; a reload calls it when the attribute changes. Safe for concurrent
// use with requests.
func (h *Handler) SetPprof(on bool) { h.pprof.Store(on) }

// PprofEnabled reports whether the profiling endpoints are served.
func (h *Handler) PprofEnabled() bool { return h.pprof.Load() }

// servePprof answers GET or HEAD under /debug/pprof/ with Go's runtime
// profiles (fasthttp's port of net/http/pprof: the index, profile (CPU,
// ?seconds=N, default 30), trace, heap, allocs, goroutine, block, mutex,
// threadcreate, cmdline, symbol) and reports whether path was one of
// them. It does so only when profiling is on (otherwise the path is left
// to the 404 of ServeHTTP) and, with a token set, only for a request
// that carries it: a profile costs CPU while it runs and shows the
// program's internals, so it is guarded like the actions, not open like
// the views.
func (h *Handler) servePprof(ctx *fasthttp.RequestCtx, path string) bool {
	if !strings.HasPrefix(path, pprofPrefix) || !h.pprof.Load() {
		return false
	}
	if !ctx.IsGet() && !ctx.IsHead() {
		ctx.Response.Header.Set("Allow", "GET, HEAD")
		writeJSON(ctx, h.o.Log, fasthttp.StatusMethodNotAllowed, errorBody{Error: "method not allowed", Path: path})
		return true
	}
	if !h.authorized(ctx, path) {
		return true
	}
	pprofhandler.PprofHandler(ctx)
	return true
}
