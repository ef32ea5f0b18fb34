package proxy

import (
	"fmt"
	"net"
	"time"

	"github.com/valyala/fasthttp"
	"go.uber.org/zap"
)

// Defaults for zero ServerOptions fields. They equal config's listener
// defaults of the same names; server's TestRuntimeDefaultsMatchConfig
// holds them to it.
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
	// DefaultReadHeaderTimeout is ServerOptions.ReadHeaderTimeout's
	// default (or ReadTimeout when that is shorter).
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultMaxHeaderBytes is ServerOptions.MaxHeaderBytes's default, in
	// bytes (16 KiB).
	DefaultMaxHeaderBytes = 16 << 10
	// DefaultMaxHeaderCount is ServerOptions.MaxHeaderCount's default.
	DefaultMaxHeaderCount = 100
	// DefaultMaxURILength is ServerOptions.MaxURILength's default, in
	// bytes (8 KiB).
	DefaultMaxURILength = 8 << 10
	// DefaultMaxConnections is ServerOptions.MaxConnections's default.
	DefaultMaxConnections = 10000
	// DefaultRequestBufferSize is ServerOptions.RequestBufferSize's
	// default, in bytes (16 KiB).
	DefaultRequestBufferSize = 16 << 10
)

// ServerOptions configure the client side of one listener. Zero or
// negative fields take the defaults above.
type ServerOptions struct {
	// ReadTimeout bounds reading one whole request, header and body, from
	// its first byte (default 30s); it caps ReadHeaderTimeout and
	// BodyReadTimeout. A slow client gets 408 and is disconnected.
	ReadTimeout time.Duration
	// ReadHeaderTimeout bounds reading the request line and header, from
	// the request's first byte, or from the accept for a connection's
	// first request (default 10s, at most ReadTimeout): slowloris.
	ReadHeaderTimeout time.Duration
	// BodyReadTimeout bounds reading the body, from the end of the header
	// (default ReadTimeout, at most ReadTimeout): slow POST.
	BodyReadTimeout time.Duration
	// WriteTimeout bounds writing one response (default 30s). A client
	// that does not read it in time is disconnected.
	WriteTimeout time.Duration
	// IdleTimeout closes a kept-alive client connection idle longer than
	// this between requests (default 60s).
	IdleTimeout time.Duration
	// MaxRequestBodySize is the largest request body accepted, in bytes
	// (default 10 MiB). A larger one gets 413 and is never forwarded; a
	// larger declared Content-Length is refused before the body is read,
	// a chunked body as soon as it passes the limit.
	MaxRequestBodySize int
	// RequestBufferSize is the largest request body read whole before it
	// is forwarded, in bytes (default 16 KiB, as NGINX's
	// client_body_buffer_size and HAProxy's tune.bufsize; at most
	// MaxRequestBodySize). Such a body may be sent again on a retry. A
	// larger one is streamed to the backend as it arrives, through one
	// fixed buffer, and is retried only if none of it was sent; each of
	// its reads may take BodyReadTimeout, and ReadTimeout no longer
	// bounds it.
	RequestBufferSize int
	// MaxHeaderBytes bounds the request line plus header, in bytes
	// (default 16 KiB; it is also each connection's read buffer). More
	// gets 431.
	MaxHeaderBytes int
	// MaxHeaderCount bounds the header fields of a request (default
	// 100). More gets 431.
	MaxHeaderCount int
	// MaxURILength bounds the request target, in bytes (default 8 KiB).
	// Longer gets 414.
	MaxURILength int
	// MaxConnections bounds the client connections open at once (default
	// 10000). One more is answered 503 and closed at once.
	MaxConnections int
	// OutOfFiles, when not nil, is called when accepting a connection
	// fails because the process ran out of file descriptors, at most once
	// every outOfFilesEvery (100ms), from the listener's accept goroutine;
	// it must not block. The LB uses it to close its idle backend
	// connections (as NGINX closes idle keep-alive connections), so that
	// descriptors come free for the clients waiting in the backlog.
	OutOfFiles func()
}

// withDefaults returns o with every zero or negative field set to its
// default and the timeouts capped by ReadTimeout.
func (o ServerOptions) withDefaults() ServerOptions {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defD(&o.ReadTimeout, DefaultReadTimeout)
	defD(&o.ReadHeaderTimeout, min(DefaultReadHeaderTimeout, o.ReadTimeout))
	defD(&o.BodyReadTimeout, o.ReadTimeout)
	o.ReadHeaderTimeout = min(o.ReadHeaderTimeout, o.ReadTimeout)
	o.BodyReadTimeout = min(o.BodyReadTimeout, o.ReadTimeout)
	defD(&o.WriteTimeout, DefaultWriteTimeout)
	defD(&o.IdleTimeout, DefaultIdleTimeout)
	def(&o.MaxRequestBodySize, DefaultMaxRequestBodySize)
	def(&o.MaxHeaderBytes, DefaultMaxHeaderBytes)
	def(&o.MaxHeaderCount, DefaultMaxHeaderCount)
	def(&o.MaxURILength, DefaultMaxURILength)
	def(&o.MaxConnections, DefaultMaxConnections)
	def(&o.RequestBufferSize, DefaultRequestBufferSize)
	o.RequestBufferSize = min(o.RequestBufferSize, o.MaxRequestBodySize)
	return o
}

// Server is the fasthttp.Server of one listener plus the connection
// limits it enforces in Serve. Run it with Serve (not ListenAndServe,
// which would bypass max_connections) and stop it with Shutdown or
// ShutdownWithContext. Safe for concurrent use as fasthttp.Server is.
type Server struct {
	*fasthttp.Server
	limits *limits
}

// Serve serves ln until it is closed or the server is shut down. It caps
// the connections open at once at MaxConnections (one more is answered
// 503 and closed at once), survives running out of file descriptors
// (it refuses the pending connection and backs off, rather than stopping),
// and counts write timeouts. It returns what fasthttp.Server.Serve does.
func (s *Server) Serve(ln net.Listener) error {
	return s.Server.Serve(newLimitListener(ln, s.limits))
}

// OpenConnections is the number of client connections open now.
func (s *Server) OpenConnections() int64 { return s.limits.open.Load() }

// NewServer returns the server of one listener, serving h. The caller
// runs it (Serve) and stops it (Shutdown). It keeps header names as
// received, adds no Server or default Content-Type header of its own to
// backend answers, does not pre-parse multipart bodies (they are forwarded
// as bytes), adds "Connection: close" to answers while shutting down, and
// enforces o's limits, answering with a JSON error and closing the
// connection: 413 body too large, 431 header too large or too many
// header fields, 414 URI too long, 408 header or body read timeout, 505
// HTTP version, 501 transfer coding, 400 unreadable. Every request header
// passes the request-smuggling guard (guardHeader) before its body
// is read: a refused request is answered 400, 501 or 505, its connection
// closed, and nothing of it is forwarded. Every refusal is counted in h.Rejections() and logged at
// debug level. It also makes o.IdleTimeout the idle timeout of h's
// upgraded connections (WebSockets): one closes after that long without a
// byte either way. fasthttp's own error messages go to log at debug level
// (they are per-connection and client-caused); a nil log drops them.
func NewServer(h *Handler, o ServerOptions, log *zap.Logger) *Server {
	if log == nil {
		log = zap.NewNop()
	}
	o = o.withDefaults()
	h.tunnelIdle.Store(int64(o.IdleTimeout))
	h.streamWrite.Store(int64(o.WriteTimeout))
	h.bodyBuffer.Store(int64(o.RequestBufferSize))
	h.bodyLimit.Store(int64(o.MaxRequestBodySize))
	h.bodyRead.Store(int64(o.BodyReadTimeout))
	lim := newLimits(h, o, log)
	srv := &fasthttp.Server{
		Handler:      lim.handler(h.ServeHTTP),
		ErrorHandler: lim.serveError,
		// The request-smuggling guard and the header limits, one verdict
		// (it may neutralise a refused request's body framing and marks it
		// for lim.handler), and the body's own read deadline.
		HeaderReceived: lim.headerReceived,
		ConnState:      lim.connState,
		// No ReadTimeout: limitConn sets the header deadline itself,
		// headerReceived the body's, and limitConn caps both by
		// o.ReadTimeout. A connection served without a limitListener
		// (ServeConn) has only IdleTimeout and the body deadline.
		WriteTimeout: o.WriteTimeout,
		IdleTimeout:  o.IdleTimeout,
		// Bodies are streamed: fasthttp reads at most 8 KiB of one before
		// the handler runs (headerReceived sets the per-request limit to
		// RequestBufferSize and refuses a declared length over
		// MaxRequestBodySize), and Handler.takeBody decides the rest.
		StreamRequestBody:  true,
		MaxRequestBodySize: o.RequestBufferSize,
		ReadBufferSize:     o.MaxHeaderBytes,
		// limitListener enforces MaxConnections; fasthttp's own cap only
		// has to stay out of its way while closed connections' workers
		// finish.
		Concurrency:                   2*o.MaxConnections + 64,
		DisableHeaderNamesNormalizing: true,
		DisablePreParseMultipartForm:  true,
		NoDefaultServerHeader:         true,
		NoDefaultContentType:          true,
		CloseOnShutdown:               true,
		Logger:                        debugLogger{log.With(zap.String("listener", h.name))},
	}
	return &Server{Server: srv, limits: lim}
}

// debugLogger adapts zap to fasthttp.Logger at debug level.
type debugLogger struct{ l *zap.Logger }

func (d debugLogger) Printf(format string, args ...any) {
	if ce := d.l.Check(zap.DebugLevel, "fasthttp"); ce != nil {
		ce.Write(zap.String("detail", fmt.Sprintf(format, args...)))
	}
}
