package admin

import (
	"encoding/json"

	"github.com/valyala/fasthttp"
	"go.uber.org/zap"
)

// errorBody is the JSON body of a refused admin request.
type errorBody struct {
	Error string `json:"error"`
	Path  string `json:"path,omitempty"`
}

// writeJSON answers code with v as an indented JSON body, ended by a
// newline. It encodes straight into the response body: a large answer
// (/status of 10,000 backends is megabytes) costs one copy of itself,
// not the three of MarshalIndent, an append and SetBody. The encoder
// writes nothing when v cannot be encoded; the answer is then a 500.
func writeJSON(ctx *fasthttp.RequestCtx, log *zap.Logger, code int, v any) {
	ctx.Response.ResetBody()
	enc := json.NewEncoder(ctx)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		log.Error("admin: encoding answer", zap.Error(err))
		ctx.Response.ResetBody()
		code = fasthttp.StatusInternalServerError
		ctx.SetBodyString(`{"error":"internal error"}` + "\n")
	}
	ctx.Response.Header.SetContentType("application/json")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetStatusCode(code)
}
