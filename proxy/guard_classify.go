package proxy

import "bytes"

// The request classifier: what fasthttp's parser accepted but two parsers
// in a chain could still read differently (request smuggling), judged on
// the parsed request line and the raw header block as it arrived, before
// any body byte is read. The tiers follow aws/http-desync-guardian:
// Severe and Ambiguous messages are refused, Compliant and Acceptable ones
// pass. fasthttp refuses the grossest cases itself (duplicate
// Content-Length, two Transfer-Encoding fields, a non-numeric
// Content-Length, control characters, whitespace before a colon, an
// unknown transfer coding, a malformed request line); those reach
// serveError instead, see errorVerdict.

// Header names the classifier looks at.
const (
	hdrContentLength    = "Content-Length"
	hdrTransferEncoding = "Transfer-Encoding"
)

// Letters-only, lower-case forms of the framing header names: a name that
// folds to one of these without being it ("Transfer_Encoding",
// "Content Length") is what some parser in a chain may take for the real
// header.
const (
	foldedTransferEncoding = "transferencoding"
	foldedContentLength    = "contentlength"
)

// classifyRequest judges one request from its method, protocol and raw
// header block (RequestHeader.RawHeaders: the header lines as received,
// each ending in LF or CRLF, the final empty line included). It returns
// the reason to refuse it and true, or false when the request may be
// forwarded. fasthttp has already checked the request line's shape, the
// tokens of method and header names and the bytes of header values; this
// adds what fasthttp tolerates:
//
//   - a version other than HTTP/1.0 or HTTP/1.1: RejectVersion (505);
//   - an obsolete line fold (a header line starting with SP or HTAB),
//     whitespace inside a header name, or a name that folds to
//     Transfer-Encoding or Content-Length without being it:
//     RejectDesyncAmbiguous (400);
//   - a Transfer-Encoding other than exactly "chunked" (fasthttp passes
//     "identity"): see transferCodingVerdict (400 or 501);
//   - a body framed on a GET or HEAD (Transfer-Encoding, or a non-zero
//     Content-Length), which a backend may ignore and read as the next
//     request: RejectDesyncAmbiguous (400).
//
// (fasthttp itself refuses an HTTP/1.1 request without a Host, see
// errorVerdict.)
//
// A request with both Content-Length and Transfer-Encoding: chunked is
// passed: fasthttp frames it by the chunked coding alone and closes the
// client connection after the answer, and the proxy forwards it with one
// Content-Length (RFC 9112 section 6.3). It does not allocate and is safe
// for concurrent use.
func classifyRequest(method, proto, raw []byte) (Reject, bool) {
	if string(proto) != "HTTP/1.1" && string(proto) != "HTTP/1.0" {
		return RejectVersion, true
	}
	noBody := string(method) == "GET" || string(method) == "HEAD"
	var te, clBody bool
	teVerdict, teRefused := Reject(0), false
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) == 0 {
			break // the empty line ending the block
		}
		if line[0] == ' ' || line[0] == '\t' {
			return RejectDesyncAmbiguous, true // obs-fold
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			// fasthttp refuses such a line; never pass one it let through.
			return RejectDesyncAmbiguous, true
		}
		name, value := line[:colon], trimOWS(line[colon+1:])
		switch {
		case equalFold(name, hdrContentLength):
			clBody = clBody || !allZeros(value)
		case equalFold(name, hdrTransferEncoding):
			te = true
			if r, bad := transferCodingVerdict(value); bad {
				teVerdict, teRefused = r, true
			}
		case hasSpace(name), foldsTo(name, foldedTransferEncoding), foldsTo(name, foldedContentLength):
			return RejectDesyncAmbiguous, true
		}
	}
	switch {
	case teRefused:
		return teVerdict, true
	case noBody && (te || clBody):
		return RejectDesyncAmbiguous, true
	}
	return 0, false
}

// allZeros reports whether v is empty or only '0' digits (a zero
// Content-Length). Anything else, even a malformed value fasthttp would
// have refused, counts as a body.
func allZeros(v []byte) bool {
	for _, c := range v {
		if c != '0' {
			return false
		}
	}
	return true
}

func hasSpace(b []byte) bool {
	for _, c := range b {
		if c == ' ' || c == '\t' {
			return true
		}
	}
	return false
}

// foldsTo reports whether name, with every byte that is not an ASCII
// letter dropped and the letters lower-cased, equals folded (a
// lower-case, letters-only string). Callers test the exact header name
// first: this catches look-alikes such as "Transfer_Encoding" or
// "Content---Length".
func foldsTo(name []byte, folded string) bool {
	if len(name) < len(folded) {
		return false
	}
	j := 0
	for _, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c < 'a' || c > 'z' {
			continue
		}
		if j == len(folded) || c != folded[j] {
			return false
		}
		j++
	}
	return j == len(folded)
}

// transferCodingVerdict judges a request's Transfer-Encoding value by RFC
// 9112 section 6. Plain "chunked" (any case, optional whitespace) passes
// (false). When chunked is not the
// final coding, alone and without parameters ("gzip", "identity",
// "xchunked", "chunked, chunked", "chunked" wrapped in non-ASCII
// whitespace), the body length cannot be determined and the request is
// refused as RejectDesyncSevere (400); when it is, but other codings
// precede it or it carries parameters ("gzip, chunked",
// "chunked;ext=1"), the request is well framed in a way the proxy does
// not implement: RejectTransferCoding (501). It does not allocate.
func transferCodingVerdict(v []byte) (Reject, bool) {
	v = trimOWS(v)
	last, chunkedBefore := v, false
	for i := len(v) - 1; i >= 0; i-- {
		if v[i] == ',' {
			last = v[i+1:]
			chunkedBefore = listHasChunked(v[:i])
			break
		}
	}
	name, params := trimOWS(last), false
	for i, c := range name {
		if c == ';' {
			name, params = trimOWS(name[:i]), true
			break
		}
	}
	switch {
	case !equalFold(name, "chunked"), chunkedBefore:
		return RejectDesyncSevere, true
	case params || len(last) != len(v):
		return RejectTransferCoding, true
	}
	return 0, false
}

// listHasChunked reports whether a comma-separated coding list names
// chunked (ignoring parameters and whitespace).
func listHasChunked(list []byte) bool {
	for len(list) > 0 {
		i := 0
		for i < len(list) && list[i] != ',' {
			i++
		}
		tok := list[:i]
		for j, c := range tok {
			if c == ';' {
				tok = tok[:j]
				break
			}
		}
		if equalFold(trimOWS(tok), "chunked") {
			return true
		}
		if i == len(list) {
			break
		}
		list = list[i+1:]
	}
	return false
}
