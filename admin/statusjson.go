package admin

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/lbtrust/lb/pool"
)

// A hand-written JSON encoder for pool.BackendStatus, so /status of
// 10,000 backends streams each backend's object into one buffer instead
// of building a PoolStatus and encoding it by reflection (~4 KB of
// garbage per backend; issue 14). It writes what encoding/json's Encoder
// with SetIndent writes for the same value, byte for byte
// (TestBackendJSONMatchesEncodingJSON, FuzzAppendJSONString).

// appendBackendJSON appends s as an indented JSON object whose lines
// after the first start with prefix (the object's own indentation; its
// fields get two spaces more), as json.MarshalIndent(s, prefix, "  ")
// writes it.
func appendBackendJSON(b []byte, s *pool.BackendStatus, prefix string) []byte {
	f := fieldWriter{b: append(b, '{'), prefix: prefix}
	f.key("address")
	f.b = appendJSONString(f.b, s.Address)
	f.key("weight")
	f.b = strconv.AppendInt(f.b, int64(s.Weight), 10)
	f.key("state")
	f.b = appendJSONString(f.b, s.State.String())
	f.key("reason")
	f.b = appendJSONString(f.b, string(s.Reason))
	if s.Detail != "" {
		f.key("detail")
		f.b = appendJSONString(f.b, s.Detail)
	}
	f.key("since")
	f.b = appendJSONTime(f.b, s.Since)
	if s.By != "" {
		f.key("by")
		f.b = appendJSONString(f.b, s.By)
	}
	if s.HeldBy != "" {
		f.key("held_by")
		f.b = appendJSONString(f.b, string(s.HeldBy))
	}
	if s.DrainSecondsLeft != nil {
		f.key("drain_seconds_left")
		f.b = appendJSONFloat(f.b, *s.DrainSecondsLeft)
	}
	f.key("last_check")
	if c := s.LastCheck; c == nil {
		f.b = append(f.b, "null"...)
	} else {
		cf := fieldWriter{b: append(f.b, '{'), prefix: prefix, nested: true}
		cf.key("at")
		cf.b = appendJSONTime(cf.b, c.At)
		cf.key("latency_ms")
		cf.b = appendJSONFloat(cf.b, c.LatencyMS)
		cf.key("outcome")
		cf.b = appendJSONString(cf.b, string(c.Outcome))
		if c.Code != 0 {
			cf.key("code")
			cf.b = strconv.AppendInt(cf.b, int64(c.Code), 10)
		}
		if c.Error != "" {
			cf.key("error")
			cf.b = appendJSONString(cf.b, c.Error)
		}
		if c.By != "" {
			cf.key("by")
			cf.b = appendJSONString(cf.b, c.By)
		}
		f.b = cf.close()
	}
	f.key("consecutive_passes")
	f.b = strconv.AppendInt(f.b, int64(s.ConsecutivePasses), 10)
	f.key("consecutive_failures")
	f.b = strconv.AppendInt(f.b, int64(s.ConsecutiveFailures), 10)
	f.key("in_flight")
	f.b = strconv.AppendInt(f.b, s.InFlight, 10)
	f.key("upgraded")
	f.b = strconv.AppendInt(f.b, s.Upgraded, 10)
	f.key("streams")
	f.b = strconv.AppendInt(f.b, s.Streams, 10)
	f.key("requests")
	f.b = strconv.AppendUint(f.b, s.Requests, 10)
	f.key("errors")
	f.b = strconv.AppendUint(f.b, s.Errors, 10)
	f.key("rescued")
	f.b = strconv.AppendUint(f.b, s.Rescued, 10)
	return f.close()
}

// fieldWriter writes the fields of one indented JSON object whose "{" is
// already written.
type fieldWriter struct {
	b      []byte
	prefix string // the object's indentation
	nested bool   // the object is a field of one at prefix: two spaces more
	n      int    // fields written
}

// indent appends the object's own indentation.
func (f *fieldWriter) indent() {
	f.b = append(f.b, f.prefix...)
	if f.nested {
		f.b = append(f.b, "  "...)
	}
}

// key starts a field: a comma after the previous one, a new line, the
// indentation and the quoted key (keys here need no escaping).
func (f *fieldWriter) key(k string) {
	if f.n > 0 {
		f.b = append(f.b, ',')
	}
	f.n++
	f.b = append(f.b, '\n')
	f.indent()
	f.b = append(f.b, `  "`...)
	f.b = append(f.b, k...)
	f.b = append(f.b, `": `...)
}

// close ends the object on a line of its own.
func (f *fieldWriter) close() []byte {
	if f.n > 0 {
		f.b = append(f.b, '\n')
		f.indent()
	}
	return append(f.b, '}')
}

// appendJSONTime appends t as time.Time.MarshalJSON does (RFC 3339 with
// nanoseconds, quoted) for a year in 0..9999.
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendJSONFloat appends f as encoding/json writes a finite float64:
// plain decimals, or an exponent below 1e-6 and from 1e21 on.
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 is written e-9, as encoding/json does.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted as encoding/json writes a string with
// HTML escaping on (its default): control characters, '"' and '\\'
// escaped, '<', '>' and '&' as \u003c, \u003e and \u0026, U+2028 and
// U+2029 escaped, and invalid UTF-8 as \ufffd.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
