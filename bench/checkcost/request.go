package main

import (
	"bufio"
	"bytes"
	"errors"
	"strconv"
)

// maxHead bounds a request's line and headers together.
const maxHead = 8 << 10

// errHeadTooLong is a request head over maxHead bytes.
var errHeadTooLong = errors.New("request head too long")

// request is what a backend reads from a probe's request head.
type request struct {
	method, path string // path without the query
	http10       bool   // HTTP/1.0 (else 1.1 or later)
	keepAlive    bool   // the connection stays open after the answer
	bodyLen      int64  // Content-Length, 0 if absent
}

// readHead reads one request head (the request line and headers, up to
// and including the empty line) into buf[:0] and returns it. Empty lines
// before the request line are skipped, as RFC 9112 allows.
func readHead(br *bufio.Reader, buf []byte) ([]byte, error) {
	buf = buf[:0]
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) || len(buf)+len(line) > maxHead {
			return nil, errHeadTooLong
		}
		if err != nil {
			return nil, err
		}
		if blank(line) {
			if len(buf) == 0 {
				continue
			}
			return append(buf, line...), nil
		}
		buf = append(buf, line...)
	}
}

// blank reports whether line is "\r\n" or "\n".
func blank(line []byte) bool {
	return len(line) == 1 || (len(line) == 2 && line[0] == '\r')
}

// parseRequest reads a request head. Keep-alive follows RFC 9112: an
// HTTP/1.1 connection persists unless a Connection header says close; an
// HTTP/1.0 one closes unless it says keep-alive.
func parseRequest(head []byte) (request, error) {
	line, rest, _ := bytes.Cut(head, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) != 3 || !bytes.HasPrefix(f[2], []byte("HTTP/1.")) {
		return request{}, errors.New("malformed request line")
	}
	r := request{method: string(f[0]), http10: string(f[2]) == "HTTP/1.0"}
	path, _, _ := bytes.Cut(f[1], []byte("?"))
	r.path = string(path)
	closeAsked, keepAsked := false, false
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		name, value, ok := bytes.Cut(bytes.TrimRight(line, "\r"), []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(bytes.TrimSpace(name), []byte("Connection")):
			for tok := range bytes.SplitSeq(value, []byte(",")) {
				tok = bytes.TrimSpace(tok)
				closeAsked = closeAsked || bytes.EqualFold(tok, []byte("close"))
				keepAsked = keepAsked || bytes.EqualFold(tok, []byte("keep-alive"))
			}
		case bytes.EqualFold(bytes.TrimSpace(name), []byte("Content-Length")):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 {
				return request{}, errors.New("bad Content-Length")
			}
			r.bodyLen = n
		}
	}
	r.keepAlive = !closeAsked && (!r.http10 || keepAsked)
	return r, nil
}

// isProbe reports whether r is the health check the targets are told to
// send.
func (r request) isProbe() bool {
	return (r.method == "GET" || r.method == "HEAD") && r.path == "/readyz"
}

// answer is the response to r: 200 "ok" to a probe, 404 to anything
// else, with a Connection header when the connection closes after it (or
// stays open on HTTP/1.0).
func answer(r request) []byte {
	status, body := "200 OK", "ok"
	if !r.isProbe() {
		status, body = "404 Not Found", "not found"
	}
	b := make([]byte, 0, 128)
	b = append(b, "HTTP/1.1 "+status+"\r\nContent-Type: text/plain\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n"...)
	switch {
	case !r.keepAlive:
		b = append(b, "Connection: close\r\n"...)
	case r.http10:
		b = append(b, "Connection: keep-alive\r\n"...)
	}
	b = append(b, "\r\n"...)
	if r.method != "HEAD" {
		b = append(b, body...)
	}
	return b
}
