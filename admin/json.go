package admin

import (
	"bytes"
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
// newline. The body is encoded into a buffer of its own and handed to
// the response as is (SetBodyRaw): fasthttp's pooled body buffers would
// keep the largest answer ever written (a /status of 10,000 backends is
// megabytes) for the life of the process. The encoder writes nothing
// when v cannot be encoded; the answer is then a 500.
func writeJSON(ctx *fasthttp.RequestCtx, log *zap.Logger, code int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		log.Error("admin: encoding answer", zap.Error(err))
		buf.Reset()
		code = fasthttp.StatusInternalServerError
		buf.WriteString(`{"error":"internal error"}` + "\n")
	}
	ctx.Response.SetBodyRaw(buf.Bytes())
	ctx.Response.Header.SetContentType("application/json")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetStatusCode(code)
}
