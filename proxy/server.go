package proxy

import (
	"fmt"
	"time"

	"github.com/valyala/fasthttp"
	"go.uber.org/zap"
)

// Defaults for zero ServerOptions fields. They match config's defaults.
const (
	// DefaultReadTimeout is ServerOptions.ReadTimeout's default.
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout is ServerOptions.WriteTimeout's default.
	DefaultWriteTimeout = 30 * time.Second
	// DefaultIdleTimeout is ServerOptions.IdleTimeout's default.
	DefaultIdleTimeout = 60 * time.Second
	// DefaultMaxRequestBodySize is ServerOptions.MaxRequestBodySize's
	// default, in bytes (10 MiB).
	DefaultMaxRequestBodySize = 10 << 20
)

// ServerOptions configure the client side of one listener. Zero or
// negative fields take the defaults above.
type ServerOptions struct {
	// ReadTimeout bounds reading one whole request, header and body
	// (default 30s). A slow client gets 408.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing one response (default 30s).
	WriteTimeout time.Duration
	// IdleTimeout closes a kept-alive client connection idle longer than
	// this between requests (default 60s).
	IdleTimeout time.Duration
	// MaxRequestBodySize is the largest request body accepted, in bytes
	// (default 10 MiB). A larger one gets 413 and is never forwarded.
	MaxRequestBodySize int
}

// NewServer returns the fasthttp.Server of one listener, serving h. The
// caller runs it (Serve, ListenAndServe) and stops it (Shutdown). It keeps
// header names as received, adds no Server or default Content-Type header
// of its own to backend answers, does not pre-parse multipart bodies (they
// are forwarded as bytes), adds "Connection: close" to answers while
// shutting down, and answers requests it cannot read with a JSON error
// (413 body too large, 431 header too large, 408 read timeout, 505 HTTP
// version, 501 transfer coding, else 400), counted in h.Rejections. Every
// request header passes the request-smuggling guard (Handler.guardHeader)
// before its body is read: a refused request is answered 400, 501 or 505
// and its connection closed, and nothing of it is forwarded.
// Its internal error messages go to log at debug level (they are
// per-connection and client-caused); a nil log drops them.
func NewServer(h *Handler, o ServerOptions, log *zap.Logger) *fasthttp.Server {
	if log == nil {
		log = zap.NewNop()
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.MaxRequestBodySize <= 0 {
		o.MaxRequestBodySize = DefaultMaxRequestBodySize
	}
	return &fasthttp.Server{
		Handler:                       h.ServeHTTP,
		ErrorHandler:                  h.serveError,
		HeaderReceived:                h.guardHeader,
		ReadTimeout:                   o.ReadTimeout,
		WriteTimeout:                  o.WriteTimeout,
		IdleTimeout:                   o.IdleTimeout,
		MaxRequestBodySize:            o.MaxRequestBodySize,
		DisableHeaderNamesNormalizing: true,
		DisablePreParseMultipartForm:  true,
		NoDefaultServerHeader:         true,
		NoDefaultContentType:          true,
		CloseOnShutdown:               true,
		Logger:                        debugLogger{log.With(zap.String("listener", h.name))},
	}
}

// serveError is the server's ErrorHandler: it answers a request the
// server could not read with the status and fixed JSON body of its reason
// (see errorVerdict and rejectAnswer: 413, 431, 408, 505, 501, else 400),
// counts the reason in the listener's Rejections and logs the error at
// debug level. fasthttp closes the connection after the answer.
func (h *Handler) serveError(ctx *fasthttp.RequestCtx, err error) {
	r := errorVerdict(err, len(ctx.Request.Header.RawHeaders()) > 0)
	status, body := rejectAnswer(r)
	writeError(&ctx.Response, status, body)
	h.rejects.Add(r)
	if ce := h.log.Check(zap.DebugLevel, "request refused"); ce != nil {
		ce.Write(
			zap.String("listener", h.name),
			zap.String("reason", r.String()),
			zap.Int("status", status),
			zap.Stringer("client", ctx.RemoteAddr()),
			zap.Error(err),
		)
	}
}

// debugLogger adapts zap to fasthttp.Logger at debug level.
type debugLogger struct{ l *zap.Logger }

func (d debugLogger) Printf(format string, args ...any) {
	if ce := d.l.Check(zap.DebugLevel, "fasthttp"); ce != nil {
		ce.Write(zap.String("detail", fmt.Sprintf(format, args...)))
	}
}
