package accesslog

import (
	"net/netip"
	"time"
)

// MaxRetries is how many retry reasons a Record holds; more retries are
// counted in Attempts but their reasons are not kept.
const MaxRetries = 10

// Bounds on the bytes a Record's variable fields may hold once queued;
// longer values are cut to these lengths (the queue's memory is bounded
// by the slot count times their sum, about 3.5 KiB).
const (
	maxMethod    = 32
	maxHost      = 256
	maxTarget    = 2048
	maxProtocol  = 16
	maxRequestID = 128
	maxUserAgent = 512
	maxReferer   = 512
)

// Kind says what a Record describes.
type Kind uint8

const (
	// KindHTTP is a request whose answer was read whole (or an error the
	// LB answered itself); its line is written when the handler is done.
	KindHTTP Kind = iota
	// KindStream is a request whose answer was relayed as it arrived;
	// its line is written when the stream ends.
	KindStream
	// KindWebSocket is an upgraded connection (a WebSocket); its line is
	// written when the tunnel closes. Status is the 101 (or the backend's
	// refusal), Bytes are the bytes each way through the tunnel.
	KindWebSocket
)

// String is the kind's label in a JSON line ("http", "stream",
// "websocket").
func (k Kind) String() string {
	switch k {
	case KindStream:
		return "stream"
	case KindWebSocket:
		return "websocket"
	}
	return "http"
}

// End says who or what ended an exchange.
type End uint8

const (
	// EndComplete: the answer (or tunnel) ran to its end, whatever its
	// status.
	EndComplete End = iota
	// EndClientAbort: the client went away before it had the whole
	// answer (NGINX logs such a request as 499).
	EndClientAbort
	// EndBackendReset: the backend closed or reset the connection, or
	// sent a malformed answer, before the answer was complete.
	EndBackendReset
	// EndBackendTimeout: the backend did not answer (header, body or a
	// silent tunnel) in time.
	EndBackendTimeout
	// EndConnectFailed: no backend could be connected to.
	EndConnectFailed
	// EndNoBackend: the pool had no eligible backend (503).
	EndNoBackend
	// EndRefused: the LB refused the request itself (a bad or too large
	// body, a saturated connection limit, no route).
	EndRefused
	// EndDeregistration: cut when its backend's deregistration delay ran
	// out.
	EndDeregistration
	// EndShutdown: cut when the LB's shutdown grace period ran out.
	EndShutdown
)

// String is the end's label ("complete", "client_abort",
// "backend_reset", "backend_timeout", "connect_failed", "no_backend",
// "refused", "deregistration", "shutdown").
func (e End) String() string {
	switch e {
	case EndClientAbort:
		return "client_abort"
	case EndBackendReset:
		return "backend_reset"
	case EndBackendTimeout:
		return "backend_timeout"
	case EndConnectFailed:
		return "connect_failed"
	case EndNoBackend:
		return "no_backend"
	case EndRefused:
		return "refused"
	case EndDeregistration:
		return "deregistration"
	case EndShutdown:
		return "shutdown"
	}
	return "complete"
}

// Record is one exchange as the access log shows it. The request path
// fills one on its stack and hands it to Logger.Log, which copies it: the
// byte-slice fields may refer to request buffers that are reused as soon
// as Log returns. The string fields must not change afterwards (they are
// kept as they are: pool names, backend addresses, constant reasons).
type Record struct {
	// Time is when the request began (its header was read).
	Time time.Time
	// Kind is what the record describes.
	Kind Kind
	// Listener is the name of the listener that took the request.
	Listener string
	// Client is the direct peer's address (zero when not TCP).
	Client netip.AddrPort
	// Method, Host, Target and Protocol are the request line and Host as
	// the client sent them (Target is the request target, path and query).
	Method, Host, Target, Protocol []byte
	// Status is the status the client got (0 when it got none).
	Status int
	// BytesIn is the request body's bytes read from the client (for a
	// WebSocket, every byte from the client through the tunnel); BytesOut
	// the answer body's bytes sent to the client (for a WebSocket, every
	// byte to it). Header bytes are not counted, as in combined's %b.
	BytesIn, BytesOut int64
	// Duration is from Time to the end of the exchange: the answer ready
	// to be written (KindHTTP), its last byte relayed (KindStream), the
	// tunnel closed (KindWebSocket).
	Duration time.Duration
	// BackendDuration is the time spent waiting for backends, every try
	// included, up to the answer's header.
	BackendDuration time.Duration
	// Pool and Backend are the pool routed to and the backend whose
	// answer the client got ("" when none was).
	Pool, Backend string
	// Attempts is how many tries were made (0 when no backend was
	// tried); the reasons of the first MaxRetries retries are Retries[:
	// min(Attempts-1, MaxRetries)], each a constant such as
	// "connect_failed", "connection_closed", "timeout", "status_503" or
	// "rescued".
	Attempts int
	Retries  [MaxRetries]string
	// Rescued says whether a try was moved off a backend that stopped
	// answering (it was silent or ejected while the request waited).
	Rescued bool
	// RequestID, UserAgent and Referer are the X-Request-Id the request
	// carried to the backend and the client's User-Agent and Referer.
	RequestID, UserAgent, Referer []byte
	// TLSVersion is the client connection's TLS version (tls.VersionTLS12,
	// ...; 0 for plain HTTP) and SNI the server name it asked for.
	TLSVersion uint16
	SNI        string
	// End says who or what ended the exchange.
	End End
}

// retries returns the recorded retry reasons.
func (r *Record) retries() []string {
	n := r.Attempts - 1
	if n <= 0 {
		return nil
	}
	return r.Retries[:min(n, MaxRetries)]
}

// AddRetry notes one more try after a failed one, for reason (a
// constant; see Attempts). It does not allocate.
func (r *Record) AddRetry(reason string) {
	if n := r.Attempts - 1; n >= 0 && n < MaxRetries {
		r.Retries[n] = reason
	}
	r.Attempts++
}

// CopyTo copies r into dst with r's byte fields appended to buf (each cut
// to its bound: 32 bytes of method, 256 of host, 2048 of target, 16 of
// protocol, 128 of request ID, 512 of user agent and of referer), and
// returns buf grown. dst's byte fields then refer to buf: dst owns its
// bytes as long as buf is not written again. It allocates only to grow
// buf. (Field by field, never *dst = *r: that would make every byte
// slice a caller passes escape to the heap.)
func (r *Record) CopyTo(dst *Record, buf []byte) []byte {
	dst.Time, dst.Kind, dst.Listener, dst.Client = r.Time, r.Kind, r.Listener, r.Client
	dst.Status, dst.BytesIn, dst.BytesOut = r.Status, r.BytesIn, r.BytesOut
	dst.Duration, dst.BackendDuration = r.Duration, r.BackendDuration
	dst.Pool, dst.Backend, dst.Attempts, dst.Retries, dst.Rescued = r.Pool, r.Backend, r.Attempts, r.Retries, r.Rescued
	dst.TLSVersion, dst.SNI, dst.End = r.TLSVersion, r.SNI, r.End
	// Grow once for all of them, so that no earlier field is left in an
	// old array.
	need := min(len(r.Method), maxMethod) + min(len(r.Host), maxHost) + min(len(r.Target), maxTarget) +
		min(len(r.Protocol), maxProtocol) + min(len(r.RequestID), maxRequestID) +
		min(len(r.UserAgent), maxUserAgent) + min(len(r.Referer), maxReferer)
	if cap(buf)-len(buf) < need {
		buf = append(make([]byte, 0, len(buf)+need), buf...)
	}
	own := func(v []byte, limit int) []byte {
		if len(v) > limit {
			v = v[:limit]
		}
		start := len(buf)
		buf = append(buf, v...)
		return buf[start:len(buf):len(buf)]
	}
	dst.Method = own(r.Method, maxMethod)
	dst.Host = own(r.Host, maxHost)
	dst.Target = own(r.Target, maxTarget)
	dst.Protocol = own(r.Protocol, maxProtocol)
	dst.RequestID = own(r.RequestID, maxRequestID)
	dst.UserAgent = own(r.UserAgent, maxUserAgent)
	dst.Referer = own(r.Referer, maxReferer)
	return buf
}
