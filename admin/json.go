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

// writeJSON answers code with v as an indented JSON body.
func writeJSON(ctx *fasthttp.RequestCtx, log *zap.Logger, code int, v any) {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		log.Error("admin: encoding answer", zap.Error(err))
		code, body = fasthttp.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	ctx.Response.Header.SetContentType("application/json")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetStatusCode(code)
	ctx.SetBody(append(body, '\n'))
}
