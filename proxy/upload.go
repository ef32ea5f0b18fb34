package proxy

import (
	"errors"
	"io"
	"net"
	"time"

	"github.com/valyala/bytebufferpool"
	"github.com/valyala/fasthttp"
)

// errUploadTooLarge is the error of a streamed request body that grew
// past the listener's max_request_body_size.
var errUploadTooLarge = errors.New("proxy: request body larger than max_request_body_size")

// clientBodyError is a failure to read the client's request body while
// forwarding it (a client that stalls, goes away, sends a malformed
// chunk or too much): never the backend's fault. r is how the listener
// answers and counts it.
type clientBodyError struct {
	err error
	r   Reject
}

func (e *clientBodyError) Error() string { return "read request body: " + e.err.Error() }
func (e *clientBodyError) Unwrap() error { return e.err }

// upload is a request body streamed to the backend as the client sends
// it: one larger than the listener's request buffer (request_buffer_size).
// It sends prefix (what was read while deciding) first, then the rest of
// the client's body stream, with the request's framing: size bytes, or
// chunked when size is -1. It reads and writes through one 32 KiB
// buffer, so an upload of any size costs the same memory, and the client
// is read only as fast as the backend takes the bytes. Each read from the
// client may wait the listener's body_read_timeout, each write to the
// backend the pool's body_idle_timeout. It is fasthttp's body stream of
// the outbound request (a fasthttp.BodyWriterTo), used by the handler's
// goroutine only.
type upload struct {
	h      *Handler
	prefix []byte
	src    io.Reader
	size   int64
	limit  int64    // max_request_body_size
	client net.Conn // the client connection (read deadlines)
	idle   time.Duration

	backend net.Conn // the backend connection of the current try (write deadlines)
	read    int64    // bytes taken from src
	sent    bool     // a byte of the body went to a backend: it cannot be sent again
	failed  *clientBodyError
}

// attach makes u the body of req for a try on conn: a try that fails
// before anything was written may be followed by another, which sends
// the same bytes.
func (u *upload) attach(req *fasthttp.Request, conn net.Conn) {
	u.backend = conn
	req.SetBodyStream(u, int(u.size))
}

// Read is io.Reader; fasthttp uses WriteTo. Each read of the client may
// wait body_read_timeout (the whole-request read_timeout no longer
// bounds a streamed body).
func (u *upload) Read(p []byte) (int, error) {
	if len(u.prefix) > 0 {
		n := copy(p, u.prefix)
		u.prefix = u.prefix[n:]
		return n, nil
	}
	if u.failed != nil {
		return 0, u.failed
	}
	if lc, ok := asLimitConn(u.client); ok {
		lc.setBodyDeadline(time.Now().Add(time.Duration(u.h.bodyRead.Load())))
	}
	n, err := readClientBody(u.src, p, &u.read, u.limit)
	if err != nil && err != io.EOF {
		u.failed = err.(*clientBodyError)
	}
	return n, err
}

// readClientBody reads the next piece of a client's request body from src
// into p, counting it in *read: io.EOF at its end, a *clientBodyError
// when the client fails or the body grows past limit.
func readClientBody(src io.Reader, p []byte, read *int64, limit int64) (int, error) {
	if over := limit - *read + 1; limit > 0 && int64(len(p)) > over {
		// Ask for no more than one byte past the limit: fasthttp's
		// reader may wait for the end of a chunk it has read whole.
		p = p[:over]
	}
	n, err := src.Read(p)
	*read += int64(n)
	switch {
	case limit > 0 && *read > limit:
		return 0, &clientBodyError{errUploadTooLarge, RejectBodyTooLarge}
	case err == nil, err == io.EOF:
		return n, err
	}
	return n, &clientBodyError{err, errorVerdict(err, true)}
}

// WriteTo sends the body to w (fasthttp's writer of the outbound
// request) piece by piece, each write bounded by the idle timeout.
func (u *upload) WriteTo(w io.Writer) (int64, error) {
	buf := u.h.streamBuffer()
	defer u.h.bufs.Put(buf)
	var total int64
	for {
		n, err := u.Read(buf[:])
		if n > 0 {
			u.sent = true
			if u.backend != nil {
				_ = u.backend.SetWriteDeadline(time.Now().Add(u.idle))
			}
			m, werr := w.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// SupportsBodyWriteTo tells fasthttp to use WriteTo
// (fasthttp.BodyWriterTo).
func (u *upload) SupportsBodyWriteTo() bool { return true }

// requestBody is the body of one client request, as forward sends it:
// whole in memory (body, retryable like any buffered request) or streamed
// (up). free gives the memory back after the request.
type requestBody struct {
	body []byte
	up   *upload
	buf  *bytebufferpool.ByteBuffer
}

// free returns the body's buffer, if any, to its pool.
func (b *requestBody) free() {
	if b.buf != nil {
		bytebufferpool.Put(b.buf)
		b.buf = nil
	}
}

// takeBody decides how the body of ctx's request is sent on: a request
// whose body the server read whole (no body, or none streamed) sends
// that; a body of at most the request buffer (request_buffer_size) is
// read whole now, so it can be sent again on a retry; a larger one
// (a Content-Length above the buffer, or a chunked body that grows past
// it) is streamed (requestBody.up). A client that fails while its body
// is read here is a *clientBodyError. idle is the pool's body idle
// timeout, for writes to the backend. It allocates nothing for a request
// without a body.
func (h *Handler) takeBody(ctx *fasthttp.RequestCtx, idle time.Duration) (requestBody, error) {
	in := &ctx.Request
	if !in.IsBodyStream() {
		return requestBody{body: in.Body()}, nil
	}
	src := in.BodyStream()
	limit := h.bodyLimit.Load()
	size := int64(in.Header.ContentLength())
	buffer := h.bodyBuffer.Load()
	if size > buffer {
		return requestBody{up: h.newUpload(ctx, src, size, idle)}, nil
	}
	bb := bytebufferpool.Get()
	rb := requestBody{buf: bb}
	scratch := h.streamBuffer()
	defer h.bufs.Put(scratch)
	var read int64
	for int64(len(bb.B)) <= buffer {
		n, err := readClientBody(src, scratch[:], &read, limit)
		bb.B = append(bb.B, scratch[:n]...)
		if err == io.EOF {
			rb.body = bb.B
			return rb, nil
		}
		if err != nil {
			rb.free()
			return requestBody{}, err
		}
	}
	// Chunked, and more than the buffer holds: stream it, the part read
	// so far first.
	rb.up = h.newUpload(ctx, src, size, idle)
	rb.up.prefix, rb.up.read = bb.B, read
	return rb, nil
}

// newUpload returns the upload of ctx's body, read from src, of size
// bytes (-1: chunked).
func (h *Handler) newUpload(ctx *fasthttp.RequestCtx, src io.Reader, size int64, idle time.Duration) *upload {
	return &upload{h: h, src: src, size: size, limit: h.bodyLimit.Load(), client: ctx.Conn(), idle: idle}
}
