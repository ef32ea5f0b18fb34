package config

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// decodeListenerLimits decodes a listener's request limits and the two
// timeouts read_timeout caps, into l (whose ReadTimeout is decoded). An
// invalid value is left 0 with its diagnostic.
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
	return diags
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
