package admin

import "github.com/valyala/fasthttp"

// serveMetrics answers GET or HEAD /metrics with Options.Metrics (the
// Prometheus exposition, not JSON) and reports whether path was /metrics.
// Without Options.Metrics the path is left to the 404 of ServeHTTP.
func (h *Handler) serveMetrics(ctx *fasthttp.RequestCtx, path string) bool {
	if path != "/metrics" || h.o.Metrics == nil {
		return false
	}
	if !ctx.IsGet() && !ctx.IsHead() {
		ctx.Response.Header.Set("Allow", "GET, HEAD")
		writeJSON(ctx, h.o.Log, fasthttp.StatusMethodNotAllowed, errorBody{Error: "method not allowed", Path: path})
		return true
	}
	h.o.Metrics(ctx)
	return true
}
