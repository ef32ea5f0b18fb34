package proxy

import "sync/atomic"

// Reject names why a listener refused a client's request or connection
// before (or instead of) forwarding it: a hard limit, a protocol error,
// or a message two parsers could read differently. Every refusal is
// counted by reason in a Rejections and shown in /status and /metrics.
type Reject uint8

// The reasons a request or connection is refused. Their String forms are
// the stable labels of /status and the lb_client_rejections_total metric.
const (
	// RejectBadRequest: unparseable request (400).
	RejectBadRequest Reject = iota
	// RejectHeaderTooLarge: request line plus header over the listener's
	// max_header_bytes (431).
	RejectHeaderTooLarge
	// RejectTooManyHeaders: more header fields than max_header_count (431).
	RejectTooManyHeaders
	// RejectURITooLong: request target longer than max_uri_length (414).
	RejectURITooLong
	// RejectBodyTooLarge: declared or streamed body over
	// max_request_body_size (413), refused before it is all read.
	RejectBodyTooLarge
	// RejectTooManyConnections: a connection beyond max_connections,
	// closed at once.
	RejectTooManyConnections
	// RejectHeaderTimeout: the header did not arrive within
	// read_header_timeout (slowloris); the connection is closed.
	RejectHeaderTimeout
	// RejectBodyTimeout: the body did not arrive within body_read_timeout
	// (slow POST) (408).
	RejectBodyTimeout
	// RejectWriteTimeout: the client did not read the answer within
	// write_timeout (slow reader); the connection is closed.
	RejectWriteTimeout
	// RejectDesyncSevere: a message with framing two parsers could read
	// differently (request smuggling); 400 and the connection closed,
	// nothing forwarded.
	RejectDesyncSevere
	// RejectDesyncAmbiguous: a message whose framing or target is
	// ambiguous; 400 and the connection closed, nothing forwarded.
	RejectDesyncAmbiguous
	// RejectVersion: an HTTP version other than 1.0 or 1.1 (505).
	RejectVersion
	// RejectTransferCoding: a Transfer-Encoding whose final coding is
	// chunked but that adds other codings or parameters (501); any other
	// coding the proxy cannot frame is RejectDesyncSevere.
	RejectTransferCoding
	// RejectMissingHost: an HTTP/1.1 request without Host (400).
	RejectMissingHost
	// RejectIdleTimeout: a kept-alive connection (or an upgraded one)
	// sent nothing for idle_timeout and was closed. Not an error: the
	// limit working as meant, counted so every limit's hits show.
	RejectIdleTimeout

	// NumRejects is the number of reasons (for arrays indexed by Reject).
	NumRejects
)

// String is the reason's stable snake_case label.
func (r Reject) String() string {
	switch r {
	case RejectBadRequest:
		return "bad_request"
	case RejectHeaderTooLarge:
		return "header_too_large"
	case RejectTooManyHeaders:
		return "too_many_headers"
	case RejectURITooLong:
		return "uri_too_long"
	case RejectBodyTooLarge:
		return "body_too_large"
	case RejectTooManyConnections:
		return "too_many_connections"
	case RejectHeaderTimeout:
		return "read_header_timeout"
	case RejectBodyTimeout:
		return "body_read_timeout"
	case RejectWriteTimeout:
		return "write_timeout"
	case RejectDesyncSevere:
		return "desync_severe"
	case RejectDesyncAmbiguous:
		return "desync_ambiguous"
	case RejectVersion:
		return "http_version_not_supported"
	case RejectTransferCoding:
		return "transfer_coding_not_implemented"
	case RejectMissingHost:
		return "missing_host"
	case RejectIdleTimeout:
		return "idle_timeout"
	}
	return "unknown"
}

// Rejections counts refusals by reason. The zero value is ready; it is
// safe for concurrent use and Add does not allocate.
type Rejections struct {
	n [NumRejects]atomic.Uint64
}

// Add counts one refusal for r. An out-of-range r is ignored.
func (c *Rejections) Add(r Reject) {
	if r < NumRejects {
		c.n[r].Add(1)
	}
}

// Snapshot returns the count of every reason, by its String label,
// including zeros, so /status always shows every limit.
func (c *Rejections) Snapshot() map[string]uint64 {
	m := make(map[string]uint64, NumRejects)
	for r := Reject(0); r < NumRejects; r++ {
		m[r.String()] = c.n[r].Load()
	}
	return m
}

// Count returns the count for r (0 for an out-of-range r).
func (c *Rejections) Count(r Reject) uint64 {
	if r < NumRejects {
		return c.n[r].Load()
	}
	return 0
}
