package accesslog

import "strconv"

// combinedTime is the layout of the combined format's time, as Apache's
// %t and NGINX's $time_local write it: [10/Oct/2000:13:55:36 -0700].
const combinedTime = "02/Jan/2006:15:04:05 -0700"

// AppendCombined appends r in the Apache/NGINX "combined" layout and a
// newline to dst:
//
//	127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.1" 200 2326 "http://example.com/" "Mozilla/4.08"
//
// client IP, "-" (identd), "-" (user: the LB authenticates nobody), the
// request's start in local time, the request line, the status, the body
// bytes sent (0 when none, as NGINX writes it), Referer and User-Agent
// ("-" when absent). Bytes that could break the layout (quote,
// backslash, control and non-ASCII bytes) are written \xHH, as NGINX
// does. The other fields are in the JSON format only. It does not
// allocate beyond growing dst.
func AppendCombined(dst []byte, r *Record) []byte {
	if r.Client.IsValid() {
		dst = r.Client.Addr().AppendTo(dst)
	} else {
		dst = append(dst, '-')
	}
	dst = append(dst, " - - ["...)
	dst = r.Time.Local().AppendFormat(dst, combinedTime)
	dst = append(dst, `] "`...)
	dst = appendEscaped(dst, r.Method)
	dst = append(dst, ' ')
	dst = appendEscaped(dst, r.Target)
	dst = append(dst, ' ')
	dst = appendEscaped(dst, r.Protocol)
	dst = append(dst, `" `...)
	dst = strconv.AppendInt(dst, int64(r.Status), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, r.BytesOut, 10)
	dst = append(dst, ` "`...)
	dst = appendOrDash(dst, r.Referer)
	dst = append(dst, `" "`...)
	dst = appendOrDash(dst, r.UserAgent)
	return append(dst, "\"\n"...)
}

func appendOrDash(dst, v []byte) []byte {
	if len(v) == 0 {
		return append(dst, '-')
	}
	return appendEscaped(dst, v)
}

// appendEscaped appends v with '"', '\\', control bytes and bytes >= 0x7f
// written as \xHH (NGINX's escape=default).
func appendEscaped(dst, v []byte) []byte {
	const hex = "0123456789ABCDEF"
	for _, c := range v {
		if c == '"' || c == '\\' || c < 0x20 || c >= 0x7f {
			dst = append(dst, '\\', 'x', hex[c>>4], hex[c&0xf])
			continue
		}
		dst = append(dst, c)
	}
	return dst
}
