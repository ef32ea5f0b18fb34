package config

import (
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// decodeListenerLimits decodes a listener's request limits, its request
// buffer and the two timeouts read_timeout caps, into l (whose
// ReadTimeout and MaxRequestBodySize are decoded). An invalid value is
// left 0 with its diagnostic.
func decodeListenerLimits(b *listenerBlock, l *Listener) hcl.Diagnostics {
	var diags, moreDiags hcl.Diagnostics

	hdrDef := DefaultReadHeaderTimeout
	if l.ReadTimeout > 0 && l.ReadTimeout < hdrDef {
		hdrDef = l.ReadTimeout
	}
	l.ReadHeaderTimeout, moreDiags = decodeDuration("read_header_timeout", b.ReadHeaderTimeout, hdrDef)
	diags = append(diags, moreDiags...)
	diags = append(diags, notOverReadTimeout("read_header_timeout", l.ReadHeaderTimeout, l.ReadTimeout, b.ReadHeaderTimeout)...)

	l.BodyReadTimeout, moreDiags = decodeDuration("body_read_timeout", b.BodyReadTimeout, l.ReadTimeout)
	diags = append(diags, moreDiags...)
	diags = append(diags, notOverReadTimeout("body_read_timeout", l.BodyReadTimeout, l.ReadTimeout, b.BodyReadTimeout)...)

	l.MaxHeaderBytes, moreDiags = decodeIntIn("max_header_bytes", b.MaxHeaderBytes, DefaultMaxHeaderBytes, MinMaxHeaderBytes, MaxMaxHeaderBytes)
	diags = append(diags, moreDiags...)
	l.MaxHeaderCount, moreDiags = decodeIntIn("max_header_count", b.MaxHeaderCount, DefaultMaxHeaderCount, 1, MaxMaxHeaderCount)
	diags = append(diags, moreDiags...)
	l.MaxConnections, moreDiags = decodeIntIn("max_connections", b.MaxConnections, DefaultMaxConnections, 1, MaxMaxConnections)
	diags = append(diags, moreDiags...)

	uriMax := l.MaxHeaderBytes
	if uriMax == 0 { // invalid max_header_bytes, already reported
		uriMax = MaxMaxHeaderBytes
	}
	uriDef := min(DefaultMaxURILength, uriMax)
	l.MaxURILength, moreDiags = decodeCount("max_uri_length", b.MaxURILength, uriDef, 1)
	diags = append(diags, moreDiags...)
	if l.MaxURILength > uriMax {
		diags = append(diags, errorf(b.MaxURILength.Range(), "Value out of range",
			"max_uri_length = %d can never be reached: the request line must fit in max_header_bytes (%d), and a longer one is refused with 431 first. Make it at most %d.",
			l.MaxURILength, uriMax, uriMax))
		l.MaxURILength = 0
	}

	l.RequestBufferSize, moreDiags = decodeRequestBufferSize(b, l.MaxRequestBodySize)
	diags = append(diags, moreDiags...)
	return diags
}

// decodeRequestBufferSize decodes request_buffer_size. Its default is
// DefaultRequestBufferSize, or bodyMax (max_request_body_size, 0 when
// invalid and already reported) when that is smaller; a written value is
// at least MinRequestBufferSize and at most bodyMax, since a larger body
// is refused with 413 before the buffer could fill. It returns 0 when
// the value is invalid.
func decodeRequestBufferSize(b *listenerBlock, bodyMax int) (int, hcl.Diagnostics) {
	def := DefaultRequestBufferSize
	if bodyMax > 0 {
		def = min(def, bodyMax)
	}
	n, diags := decodeCount("request_buffer_size", b.RequestBufferSize, def, MinRequestBufferSize)
	if bodyMax <= 0 || n <= bodyMax {
		return n, diags
	}
	// Only a written value can pass bodyMax: the default never does.
	limit := fmt.Sprintf("max_request_body_size (%d) at %s", bodyMax, lineOf(b.MaxRequestBodySize.Range()))
	if !written(b.MaxRequestBodySize) {
		limit = fmt.Sprintf("the default max_request_body_size (%d)", bodyMax)
	}
	fix := fmt.Sprintf("Make it at most %d, or raise max_request_body_size to at least %d.", bodyMax, n)
	if bodyMax < MinRequestBufferSize {
		fix = fmt.Sprintf("Remove it (with max_request_body_size under %d every body is read whole), or raise max_request_body_size to at least %d.",
			MinRequestBufferSize, n)
	}
	return 0, append(diags, errorf(b.RequestBufferSize.Range(), "Value out of range",
		"request_buffer_size = %d can never fill: a body larger than %s is refused with 413 first. %s",
		n, limit, fix))
}

// notOverReadTimeout reports a written timeout d, decoded from expr, that
// is longer than read_timeout rt, which caps it.
func notOverReadTimeout(name string, d, rt time.Duration, expr hcl.Expression) hcl.Diagnostics {
	if d <= rt || rt <= 0 || !written(expr) {
		return nil
	}
	return hcl.Diagnostics{errorf(expr.Range(), "Timeout longer than read_timeout",
		"%s = %q can never be reached: read_timeout (%s) bounds the whole request, header and body. Make it at most %s, or raise read_timeout.",
		name, d.String(), rt, rt)}
}
