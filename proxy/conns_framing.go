package proxy

import (
	"bytes"
	"errors"
)

// errResponseFraming is the read error of a backend answer whose header
// carries both Content-Length and Transfer-Encoding: two parsers could
// frame it differently (response splitting), so it is not relayed. The
// Handler answers 502, as for any malformed answer.
var errResponseFraming = errors.New("proxy: backend answer carries both Content-Length and Transfer-Encoding")

// Scan states of a framingScan.
const (
	scanIdle   uint8 = iota // between answers, or in a body: nothing to look at
	scanStatus              // in an answer's status line
	scanHeader              // in an answer's header fields
)

// framingScan watches the header block of each answer a backend
// connection delivers, for the one framing conflict fasthttp's response
// parser lets through: Content-Length together with Transfer-Encoding
// (it frames by the latter and drops the former). Two Content-Length
// fields fasthttp refuses itself. fasthttp's HostClient writes a whole
// request, then reads its whole answer, on one connection at a time, so
// every write starts a new answer: its status line, any 1xx interim
// answers, the final header block; the body that follows is not looked
// at. It keeps the first bytes of the current line only, so it never
// allocates. Not safe for concurrent use (a connection carries one
// exchange at a time).
type framingScan struct {
	state uint8
	// name holds the current line's first bytes without spaces (a field
	// name, or the status line's "HTTP/1.1" and code); n of them.
	name [24]byte
	n    uint8
	// long: the line had more non-space bytes than name holds;
	// inner: a space inside the field name (not a framing field then);
	// space: the last byte was a space; fold: a continuation line;
	// colon: past the field name; blank: nothing but CR so far.
	long, inner, space, fold, colon, blank bool
	interim                                bool // this block is a 1xx answer
	cl, te                                 bool // framing fields seen in this block
}

// start resets s for the answer to a request being written.
func (s *framingScan) start() {
	*s = framingScan{state: scanStatus, blank: true}
}

// scan looks at bytes of the answer as they are read and returns
// errResponseFraming as soon as a header block holds both framing fields.
// A field's value is skipped whole (bytes.IndexByte to its line's end):
// only names are looked at byte by byte.
func (s *framingScan) scan(p []byte) error {
	for len(p) > 0 {
		if s.state == scanIdle {
			return nil
		}
		if s.colon {
			// In a value (blank is already false): on to the line's end.
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				return nil
			}
			p = p[i+1:]
			s.endLine()
			continue
		}
		if s.state == scanHeader && s.n == 0 && s.blank && !s.space {
			// At a line's start: a whole field line is judged at once.
			if rest, ok, err := s.fieldLine(p); ok {
				if err != nil {
					return err
				}
				p = rest
				continue
			}
		}
		c := p[0]
		p = p[1:]
		if c == '\n' {
			s.endLine()
			continue
		}
		if c != '\r' {
			s.blank = false
		}
		switch {
		case c == ':' && s.state == scanHeader:
			s.colon = true
			if s.fold || s.inner || s.long {
				continue
			}
			name := s.name[:s.n]
			s.cl = s.cl || equalFold(name, hdrContentLength)
			s.te = s.te || equalFold(name, hdrTransferEncoding)
			if s.cl && s.te {
				s.state = scanIdle
				return errResponseFraming
			}
		case c == ' ' || c == '\t':
			if s.n == 0 && s.state == scanHeader {
				s.fold = true
			}
			s.space = true
		case c == '\r':
		default:
			if s.space && s.n > 0 {
				s.inner = true
			}
			s.space = false
			if int(s.n) < len(s.name) {
				s.name[s.n] = c
				s.n++
			} else {
				s.long = true
			}
		}
	}
	return nil
}

// fieldLine judges the header field line at the start of p when p holds
// it whole, is a plain "name: value" line (no fold, no CR before the
// colon) and the scan is at a line's start: it reports true with the
// bytes after the line, and errResponseFraming when the line completes a
// conflict. Any other line is left to scan's byte-by-byte reading (false),
// which judges every line the same way, only slower.
func (s *framingScan) fieldLine(p []byte) (rest []byte, ok bool, err error) {
	i := bytes.IndexByte(p, '\n')
	if i <= 0 || p[0] == ' ' || p[0] == '\t' || p[0] == '\r' {
		return nil, false, nil
	}
	j := bytes.IndexByte(p[:i], ':')
	if j <= 0 || bytes.IndexByte(p[:j], '\r') >= 0 {
		return nil, false, nil
	}
	name := p[:j]
	for len(name) > 0 && (name[len(name)-1] == ' ' || name[len(name)-1] == '\t') {
		name = name[:len(name)-1]
	}
	if (len(name) == len(hdrContentLength) || len(name) == len(hdrTransferEncoding)) &&
		bytes.IndexByte(name, ' ') < 0 && bytes.IndexByte(name, '\t') < 0 {
		s.cl = s.cl || equalFold(name, hdrContentLength)
		s.te = s.te || equalFold(name, hdrTransferEncoding)
		if s.cl && s.te {
			s.state = scanIdle
			return nil, true, errResponseFraming
		}
	}
	s.blank = false
	s.endLine()
	return p[i+1:], true, nil
}

// endLine ends the current line: a status line decides whether its block
// is an interim 1xx answer; an empty line ends a header block, after which
// the next 1xx answer or the body follows.
func (s *framingScan) endLine() {
	switch {
	case s.state == scanStatus:
		// name holds "HTTP/1.1" then the three status digits.
		s.interim = s.n >= 11 && s.name[8] == '1' && (s.name[9] != '0' || s.name[10] != '1')
		s.state = scanHeader
	case s.blank:
		if s.interim {
			s.state, s.cl, s.te = scanStatus, false, false
		} else {
			s.state = scanIdle
		}
	}
	s.n, s.long, s.inner, s.space, s.fold, s.colon, s.blank = 0, false, false, false, false, false, true
}
