package accesslog

import (
	"crypto/tls"
	"strconv"
	"time"
	"unicode/utf8"
)

// jsonTime is the layout of a JSON line's "time": RFC 3339 in UTC with
// milliseconds.
const jsonTime = "2006-01-02T15:04:05.000Z07:00"

// AppendJSON appends r as one JSON object and a newline to dst. Every
// field is always present (empty strings, 0 and [] included), so lines
// parse into one fixed shape. It does not allocate beyond growing dst.
func AppendJSON(dst []byte, r *Record) []byte {
	dst = append(dst, `{"time":"`...)
	dst = r.Time.UTC().AppendFormat(dst, jsonTime)
	dst = append(dst, `","kind":"`...)
	dst = append(dst, r.Kind.String()...)
	dst = append(dst, `","listener":`...)
	dst = appendJSONString(dst, r.Listener)
	dst = append(dst, `,"client":"`...)
	if r.Client.IsValid() {
		dst = r.Client.AppendTo(dst)
	}
	dst = append(dst, `","method":`...)
	dst = appendJSONString(dst, r.Method)
	dst = append(dst, `,"host":`...)
	dst = appendJSONString(dst, r.Host)
	dst = append(dst, `,"target":`...)
	dst = appendJSONString(dst, r.Target)
	dst = append(dst, `,"protocol":`...)
	dst = appendJSONString(dst, r.Protocol)
	dst = append(dst, `,"status":`...)
	dst = strconv.AppendInt(dst, int64(r.Status), 10)
	dst = append(dst, `,"bytes_in":`...)
	dst = strconv.AppendInt(dst, r.BytesIn, 10)
	dst = append(dst, `,"bytes_out":`...)
	dst = strconv.AppendInt(dst, r.BytesOut, 10)
	dst = append(dst, `,"duration_ms":`...)
	dst = appendMillis(dst, r.Duration)
	dst = append(dst, `,"backend_ms":`...)
	dst = appendMillis(dst, r.BackendDuration)
	dst = append(dst, `,"pool":`...)
	dst = appendJSONString(dst, r.Pool)
	dst = append(dst, `,"backend":`...)
	dst = appendJSONString(dst, r.Backend)
	dst = append(dst, `,"attempts":`...)
	dst = strconv.AppendInt(dst, int64(r.Attempts), 10)
	dst = append(dst, `,"retries":[`...)
	for i, why := range r.retries() {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, why)
	}
	dst = append(dst, `],"rescued":`...)
	dst = strconv.AppendBool(dst, r.Rescued)
	dst = append(dst, `,"request_id":`...)
	dst = appendJSONString(dst, r.RequestID)
	dst = append(dst, `,"user_agent":`...)
	dst = appendJSONString(dst, r.UserAgent)
	dst = append(dst, `,"referer":`...)
	dst = appendJSONString(dst, r.Referer)
	dst = append(dst, `,"tls_version":"`...)
	dst = append(dst, tlsVersion(r.TLSVersion)...)
	dst = append(dst, `","sni":`...)
	dst = appendJSONString(dst, r.SNI)
	dst = append(dst, `,"end":"`...)
	dst = append(dst, r.End.String()...)
	return append(dst, "\"}\n"...)
}

// tlsVersion names a TLS version as "1.2", "1.3" ("" for none).
func tlsVersion(v uint16) string {
	switch v {
	case 0:
		return ""
	case tls.VersionTLS10:
		return "1.0"
	case tls.VersionTLS11:
		return "1.1"
	case tls.VersionTLS12:
		return "1.2"
	case tls.VersionTLS13:
		return "1.3"
	}
	return "unknown"
}

// appendMillis appends d in milliseconds with microsecond precision
// ("12.345").
func appendMillis(dst []byte, d time.Duration) []byte {
	us := d.Microseconds()
	if us < 0 {
		dst = append(dst, '-')
		us = -us
	}
	dst = strconv.AppendInt(dst, us/1000, 10)
	frac := us % 1000
	dst = append(dst, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	return dst
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD (a request
// target is whatever bytes the client sent).
func appendJSONString[T []byte | string](dst []byte, s T) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20 || c == 0x7f:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := decodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// decodeRune is utf8.DecodeRune for either kind of s.
func decodeRune[T []byte | string](s T) (rune, int) {
	switch v := any(s).(type) {
	case string:
		return utf8.DecodeRuneInString(v)
	case []byte:
		return utf8.DecodeRune(v)
	}
	return utf8.RuneError, 1
}
