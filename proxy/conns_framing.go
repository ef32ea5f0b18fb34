package proxy

import "errors"

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
func (s *framingScan) scan(p []byte) error {
	for _, c := range p {
		if s.state == scanIdle {
			return nil
		}
		if c == '\n' {
			s.endLine()
			continue
		}
		if c != '\r' {
			s.blank = false
		}
		if s.colon {
			continue
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
