package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"time"
)

// Errors of a streamed answer's body.
var (
	// errBadChunk: the backend's chunked framing is malformed (a bad size
	// line, a missing CRLF after a chunk, an oversized trailer).
	errBadChunk = errors.New("proxy: malformed chunked body from the backend")
	// errBodyIdle: the backend sent no byte of the body for the pool's
	// body idle timeout.
	errBodyIdle = errors.New("proxy: backend sent nothing for the body idle timeout")
	// errResponseDeadline: the pool's response_timeout (the whole answer)
	// ran out while the body was still coming.
	errResponseDeadline = errors.New("proxy: response timeout reached mid-body")
	// errClientGone: the client closed its connection while the backend
	// was silent (seen by peerGone, not by a failed write).
	errClientGone = errors.New("proxy: client closed the connection mid-stream")
)

// Limits of the chunked framing a backend may send.
const (
	// maxChunkLine bounds a chunk-size line with its extensions.
	maxChunkLine = 4 << 10
	// maxTrailerBytes bounds the trailer section (it is dropped).
	maxTrailerBytes = 16 << 10
)

// probeEvery is how often a stream waiting on a silent backend looks
// whether its client is still there (peerGone), so that a client that
// went away releases the backend connection within about this long.
const probeEvery = time.Second

// Body framings of a backend answer.
const (
	framedLength     uint8 = iota // Content-Length: left bytes to go
	framedChunked                 // Transfer-Encoding: chunked
	framedUntilClose              // neither: the body ends when the backend closes
)

// Chunked decoder states.
const (
	chunkSize    uint8 = iota // expecting a chunk-size line
	chunkData                 // in a chunk's data, chunkLeft bytes to go
	chunkCRLF                 // the CRLF after a chunk's data is due
	chunkTrailer              // in the trailer section after the last chunk
)

// bodyReader reads the body of one backend answer from the backend
// connection, by the answer's framing, and yields it unframed: each Read
// returns what one read of the connection brought (or what the read
// buffer already held), never waiting to fill p, so the caller can pass
// it on at once. Every read waits at most the try's idle time from when
// the wait began (errBodyIdle) and never past its end (errResponseDeadline);
// while it waits it looks every probeEvery whether client, the
// connection the body goes to, was closed (errClientGone). Trailer fields
// of a chunked body are read and dropped. A body cut short (the
// connection closed before the declared length or the last chunk) is
// io.ErrUnexpectedEOF, never a clean end. It is used by one goroutine at
// a time.
type bodyReader struct {
	conn   net.Conn
	br     *bufio.Reader
	client net.Conn // nil: no liveness probe
	times  tryTimes

	framing   uint8
	left      int64 // framedLength: bytes to go
	state     uint8 // framedChunked: decoder state
	chunkLeft int64 // chunkData: bytes to go in the chunk
	trailer   int   // chunkTrailer: bytes of trailer read so far
	done      bool  // the whole body has been read
	// waitSince is when the current wait for backend bytes began (zero
	// while bytes are flowing).
	waitSince time.Time
}

// init prepares r for a body of content length n as fasthttp reports it
// (>= 0: that many bytes; -1: chunked; -2: until the connection closes).
func (r *bodyReader) init(conn net.Conn, br *bufio.Reader, n int, t *tryTimes) {
	*r = bodyReader{conn: conn, br: br, times: *t}
	switch {
	case n >= 0:
		r.framing, r.left, r.done = framedLength, int64(n), n == 0
	case n == -1:
		r.framing = framedChunked
	default:
		r.framing = framedUntilClose
	}
}

// Read reads the next piece of the body into p: n > 0 with a nil error,
// or 0 with io.EOF at the end of the body, or 0 with why it failed.
func (r *bodyReader) Read(p []byte) (int, error) {
	for {
		if r.done {
			return 0, io.EOF
		}
		silentUntil := r.arm()
		n, err := r.read(p)
		if n > 0 {
			r.waitSince = time.Time{}
			return n, nil // a failure met on the way comes back next time
		}
		switch {
		case err == nil:
			continue // framing consumed, no data yet (a size line, a CRLF)
		case err == io.EOF && r.done:
			return 0, io.EOF
		case err == io.EOF:
			return 0, io.ErrUnexpectedEOF
		case !isTimeout(err):
			return 0, err
		}
		now := time.Now()
		if !now.Before(silentUntil) {
			if !r.times.end.IsZero() && !now.Before(r.times.end) {
				return 0, errResponseDeadline
			}
			return 0, errBodyIdle
		}
		if r.client != nil && peerGone(r.client) {
			return 0, errClientGone
		}
	}
}

// arm sets the connection's read deadline for the next read and returns
// when the backend's silence becomes a failure. The deadline is earlier
// when the client is probed meanwhile.
func (r *bodyReader) arm() time.Time {
	now := time.Now()
	if r.waitSince.IsZero() {
		r.waitSince = now
	}
	silentUntil := r.times.bodyDeadline(r.waitSince)
	d := silentUntil
	if r.client != nil {
		if probe := now.Add(probeEvery); probe.Before(d) {
			d = probe
		}
	}
	_ = r.conn.SetReadDeadline(d)
	return silentUntil
}

// read makes one step of decoding: it returns data, or (0, nil) after
// consuming framing only, or (0, io.EOF) with done set at the end, or the
// read error (io.EOF for a connection closed early).
func (r *bodyReader) read(p []byte) (int, error) {
	switch r.framing {
	case framedLength:
		if int64(len(p)) > r.left {
			p = p[:r.left]
		}
		n, err := r.br.Read(p)
		r.left -= int64(n)
		if r.left == 0 {
			r.done = true
			if n == 0 {
				return 0, io.EOF
			}
			return n, nil
		}
		return n, err
	case framedUntilClose:
		n, err := r.br.Read(p)
		if err == io.EOF {
			r.done = true
		}
		return n, err
	}
	return r.readChunked(p)
}

// readChunked is read for a chunked body.
func (r *bodyReader) readChunked(p []byte) (int, error) {
	switch r.state {
	case chunkCRLF:
		b, err := r.br.Peek(2)
		if err != nil {
			return 0, err
		}
		if b[0] != '\r' || b[1] != '\n' {
			return 0, errBadChunk
		}
		_, _ = r.br.Discard(2)
		r.state = chunkSize
		return 0, nil
	case chunkSize:
		line, err := r.line()
		if err != nil {
			return 0, err
		}
		size, ok := parseChunkSize(line)
		if !ok {
			return 0, errBadChunk
		}
		_, _ = r.br.Discard(len(line))
		if size == 0 {
			r.state = chunkTrailer
		} else {
			r.state, r.chunkLeft = chunkData, size
		}
		return 0, nil
	case chunkTrailer:
		line, err := r.line()
		if err != nil {
			return 0, err
		}
		_, _ = r.br.Discard(len(line))
		if len(line) == 1 || (len(line) == 2 && line[0] == '\r') {
			r.done = true
			return 0, io.EOF
		}
		if r.trailer += len(line); r.trailer > maxTrailerBytes {
			return 0, errBadChunk
		}
		return 0, nil
	}
	if int64(len(p)) > r.chunkLeft {
		p = p[:r.chunkLeft]
	}
	n, err := r.br.Read(p)
	if r.chunkLeft -= int64(n); r.chunkLeft == 0 {
		r.state = chunkCRLF
	}
	return n, err
}

// line returns the next line of the connection, through its '\n',
// without consuming it (the caller discards it once it is judged), so a
// read that times out loses nothing.
func (r *bodyReader) line() ([]byte, error) {
	for {
		b, _ := r.br.Peek(r.br.Buffered())
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			return b[:i+1], nil
		}
		if len(b) >= maxChunkLine {
			return nil, errBadChunk
		}
		if _, err := r.br.Peek(len(b) + 1); err != nil {
			return nil, err
		}
	}
}

// parseChunkSize parses a chunk-size line (RFC 9112 section 7.1) with its
// line end: hex digits, optional chunk extensions (ignored), CRLF. It
// reports false for anything else: no digit, more than 15 digits, bytes
// that are not part of the grammar, a bare LF.
func parseChunkSize(line []byte) (int64, bool) {
	if len(line) < 3 || line[len(line)-2] != '\r' || line[len(line)-1] != '\n' {
		return 0, false
	}
	line = line[:len(line)-2]
	var size int64
	i := 0
	for ; i < len(line); i++ {
		c := line[i]
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			goto ext
		}
		if i == 15 {
			return 0, false
		}
		size = size<<4 | int64(d)
	}
ext:
	if i == 0 {
		return 0, false
	}
	rest := line[i:]
	for len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t') {
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return size, true
	}
	if rest[0] != ';' {
		return 0, false
	}
	for _, c := range rest {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return 0, false
		}
	}
	return size, true
}
