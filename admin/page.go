package admin

import (
	_ "embed"

	"github.com/valyala/fasthttp"
)

// statusPage is the operator status page served at GET /: one
// self-contained HTML file (inline CSS and JS, no external fetch) that
// reads /status and /events every 2 s and drives the drain and undrain
// endpoints. It builds the DOM with textContent only, so nothing the
// backends or the configuration say is ever parsed as HTML.
//
//go:embed ui/index.html
var statusPage []byte

// statusPageCSP allows the page's own inline style and script and requests
// to this origin only: a stray external reference would not load.
const statusPageCSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; " +
	"connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// servePage answers GET / with the status page.
func (h *Handler) servePage(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.SetContentType("text/html; charset=utf-8")
	ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-store")
	ctx.Response.Header.Set("Content-Security-Policy", statusPageCSP)
	ctx.Response.Header.Set(fasthttp.HeaderXContentTypeOptions, "nosniff")
	ctx.Response.Header.Set("Referrer-Policy", "no-referrer")
	ctx.SetStatusCode(fasthttp.StatusOK)
	if !ctx.IsHead() {
		ctx.SetBody(statusPage)
	}
}
