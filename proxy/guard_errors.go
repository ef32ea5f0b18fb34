package proxy

import (
	"errors"
	"net"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"
)

// errorVerdict maps an error fasthttp's server reports for a request it
// could not read (Server.ErrorHandler, via limits.classify) to the reason
// it is refused.
// headerRead tells whether the header had been parsed when it failed (a
// timeout before that is a header timeout, after it a body timeout).
// fasthttp v1.78 builds several of these errors with fmt.Errorf and no
// sentinel, so their text is matched; TestRefusals (guard_test.go) pins
// every one by sending requests through the real parser, so a fasthttp
// upgrade that rewords one fails there, not silently.
func errorVerdict(err error, headerRead bool) Reject {
	var small *fasthttp.ErrSmallBuffer
	var ne net.Error
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return RejectBodyTooLarge
	case errors.As(err, &small):
		return RejectHeaderTooLarge
	case errors.As(err, &ne) && ne.Timeout():
		if headerRead {
			return RejectBodyTimeout
		}
		return RejectHeaderTimeout
	case errors.Is(err, fasthttp.ErrDuplicateContentLength), errors.Is(err, fasthttp.ErrNonNumericChars):
		return RejectDesyncSevere
	case errors.Is(err, fasthttp.ErrUnsupportedTransferEncoding):
		// An HTTP/1.0 request with Transfer-Encoding: faulty framing
		// (RFC 9112 section 6.1), not an unknown coding.
		return RejectDesyncAmbiguous
	}
	// The parser's own message follows fasthttp's "error when reading
	// request headers: " wrapper.
	msg := err.Error()
	if i := strings.Index(msg, headerErrorPrefix); i >= 0 {
		msg = msg[i+len(headerErrorPrefix):]
	}
	switch {
	case strings.HasPrefix(msg, "cannot parse content-length"),
		strings.HasPrefix(msg, "too many transfer-encoding headers"):
		return RejectDesyncSevere
	case strings.HasPrefix(msg, "unsupported transfer-encoding: "):
		if v, ok := quotedPrefix(msg[len("unsupported transfer-encoding: "):]); ok {
			if r, bad := transferCodingVerdict([]byte(v)); bad {
				return r
			}
		}
		return RejectDesyncSevere
	case strings.HasPrefix(msg, "missing required host header"):
		return RejectMissingHost
	case strings.HasPrefix(msg, "unsupported http version "):
		if v, ok := quotedPrefix(msg[len("unsupported http version "):]); ok && isVersionToken(v) {
			return RejectVersion
		}
	}
	return RejectBadRequest
}

// quotedPrefix returns the Go-quoted string s starts with, unquoted (how
// fasthttp puts the offending value into its error messages).
func quotedPrefix(s string) (string, bool) {
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", false
	}
	v, err := strconv.Unquote(q)
	return v, err == nil
}

// headerErrorPrefix starts the message of every error fasthttp's
// RequestHeader.Read returns for a header it could not parse.
const headerErrorPrefix = "error when reading request headers: "

// isVersionToken reports whether s is a well-formed HTTP version token
// ("HTTP/" digits, optionally "." digits) such as "HTTP/2" or "HTTP/1.10":
// a version the proxy does not speak (505), not a garbled request line
// (400).
func isVersionToken(s string) bool {
	d, ok := strings.CutPrefix(s, "HTTP/")
	if !ok {
		return false
	}
	major, minor, dot := strings.Cut(d, ".")
	return allDigits(major) && (!dot || allDigits(minor))
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
