package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"time"

	"github.com/valyala/fasthttp"
)

// bufferedBodyMax is the largest answer body with a known length that is
// read whole before the client gets the answer (the buffered path, which
// allocates nothing and may still be retried); a longer body, or one
// whose length is not known and that is not already complete in the read
// buffer, is streamed. It is the backend read buffer's size.
const bufferedBodyMax = backendReadBufferSize

// maxInterimAnswers bounds the 1xx answers skipped before the final one.
const maxInterimAnswers = 100

// errTooManyInterim is the error of an answer preceded by more than
// maxInterimAnswers interim (1xx) answers.
var errTooManyInterim = errors.New("proxy: too many 1xx answers from the backend")

// roundTrip sends req to the backend on one of c's pooled connections and
// reads the answer's header into resp, bounded by t.header (writing the
// request and reading the header). It is the
// exchange HostClient.DoDeadline would make, on the same pool (MaxConns,
// idle connections, connection tracking), with one difference: the body.
//
// An answer without a body (HEAD, 1xx, 204, 304), with a known length of
// at most bufferedBodyMax, or chunked and already complete in the read
// buffer, is read whole into resp and the connection goes back to the
// pool: roundTrip returns (nil, nil). Any other body is left on the
// connection, and roundTrip returns it as a *stream (not yet started)
// that owns the connection from then on: the caller must start it
// (stream.start) and hand it to fasthttp as resp's body stream, which
// closes it. resp then holds the header only.
//
// A request whose body is streamed from the client (upload not nil)
// sends it after its header, each write bounded by t.idle; the wait for
// the header is then t.wait from the end of the body. A failure of the
// client meanwhile is the upload's *clientBodyError.
//
// r, when not nil, makes the try rescuable while it waits for the
// answer's header (see rescue): if it is moved to another backend, the
// connection is closed and roundTrip returns errRescued.
func (c *BackendClient) roundTrip(req *fasthttp.Request, upload *upload, resp *fasthttp.Response, t *tryTimes, r *rescue) (*stream, error) {
	hc := c.HostClient()
	deadline := t.header
	timeout := deadline.Sub(t.start)
	if timeout <= 0 {
		return nil, fasthttp.ErrTimeout
	}
	cc, err := hc.AcquireConn(timeout, req.ConnectionClose())
	if err != nil {
		return nil, err
	}
	conn := cc.Conn()
	// Writing the request and reading the header share one deadline:
	// set once, both ways (one timer), unless the body is streamed,
	// after which the wait for the header starts.
	if upload == nil {
		err = conn.SetDeadline(deadline)
	} else {
		err = conn.SetWriteDeadline(deadline)
	}
	if err != nil {
		hc.CloseConn(cc) // errConnCut: nothing was sent
		return nil, err
	}
	if upload != nil {
		upload.attach(req, conn)
	}
	// As HostClient does: the request line is written from the parsed
	// URI (so a #fragment is not sent), the path as received.
	req.URI().DisablePathNormalizing = hc.DisablePathNormalizing
	bw := hc.AcquireWriter(conn)
	err = req.Write(bw)
	if err == nil {
		err = bw.Flush()
	}
	hc.ReleaseWriter(bw)
	if err != nil {
		hc.CloseConn(cc)
		return nil, transportError(err)
	}

	if upload != nil {
		// The wait for the header starts once the body is sent.
		deadline = time.Now().Add(t.wait)
		if !t.end.IsZero() && t.end.Before(deadline) {
			deadline = t.end
		}
		if err := conn.SetReadDeadline(deadline); err != nil {
			hc.CloseConn(cc)
			return nil, err
		}
	}
	// A rescuable try is marked waiting on its connection from here to
	// the answer's header (rescue.go).
	tc, _ := conn.(*trackedConn)
	if tc != nil && r != nil {
		r.arm(tc)
	}
	br := hc.AcquireReader(conn)
	// Not Reset: that would forget the server's settings of the header
	// (no default Content-Type); reading a header replaces the last one.
	resp.ResetBody()
	resp.SkipBody = false
	resp.Header.DisableNormalizing()
	err = readFinalHeader(&resp.Header, br)
	for err != nil && tc != nil {
		var again bool
		if again, err = woken(tc, r, err, deadline); !again {
			break
		}
		err = readFinalHeader(&resp.Header, br)
	}
	if tc != nil && r != nil {
		tc.endWait()
	}
	if err != nil {
		hc.ReleaseReader(br)
		hc.CloseConn(cc)
		return nil, transportError(err)
	}
	reuse := !req.ConnectionClose() && !resp.Header.ConnectionClose()

	status := resp.StatusCode()
	switch n := resp.Header.ContentLength(); {
	case req.Header.IsHead() || status < 200 || status == fasthttp.StatusNoContent || status == fasthttp.StatusNotModified:
		resp.SkipBody = true
	case n >= 0 && n <= bufferedBodyMax, n == -1 && chunkedComplete(br):
		// Bounded by what is known or already here: read it whole, as
		// HostClient does (the trailer of a chunked body included).
		if br.Buffered() < n {
			// The rest of a small body: the body's idle time.
			_ = conn.SetReadDeadline(t.bodyDeadline(time.Now()))
		}
		err = resp.ReadBody(br, 0)
		if err == nil && n == -1 {
			err = resp.Header.ReadTrailer(br)
		}
		if err != nil {
			hc.ReleaseReader(br)
			hc.CloseConn(cc)
			return nil, transportError(err)
		}
	default:
		s := newStream(c, conn, br, n, reuse, t, func(reuse bool) {
			hc.ReleaseReader(br)
			if reuse {
				hc.ReleaseConn(cc)
			} else {
				hc.CloseConn(cc)
			}
		})
		return s, nil
	}
	hc.ReleaseReader(br)
	if reuse {
		hc.ReleaseConn(cc)
	} else {
		hc.CloseConn(cc)
	}
	return nil, nil
}

// readFinalHeader reads an answer's header into h, skipping interim 1xx
// answers (but for 101, which is final) as HostClient does.
func readFinalHeader(h *fasthttp.ResponseHeader, br *bufio.Reader) error {
	for n := 0; ; n++ {
		if err := h.Read(br); err != nil {
			return err
		}
		if code := h.StatusCode(); code < 100 || code > 199 || code == fasthttp.StatusSwitchingProtocols {
			return nil
		}
		if n >= maxInterimAnswers {
			return errTooManyInterim
		}
	}
}

// transportError maps the errors of a failed exchange as HostClient does
// for classify: any timeout is fasthttp.ErrTimeout, a connection closed
// before the first answer byte is fasthttp.ErrConnectionClosed.
func transportError(err error) error {
	var te interface{ Timeout() bool }
	var cbe *clientBodyError
	switch {
	case errors.As(err, &cbe):
		return cbe // the client's fault, whatever it wraps
	case errors.As(err, &te) && te.Timeout():
		return fasthttp.ErrTimeout
	case err == io.EOF:
		return fasthttp.ErrConnectionClosed
	}
	return err
}

// chunkedComplete reports whether br's buffer already holds a whole
// chunked body (every chunk, the last chunk and the end of the trailer
// section), so that reading it cannot block. It looks only at bytes
// already read and allocates nothing; anything it cannot follow (a
// malformed size, a line cut by the end of the buffer) is "not complete",
// and the stream's own decoder judges it.
func chunkedComplete(br *bufio.Reader) bool {
	b, _ := br.Peek(br.Buffered())
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return false
		}
		size, ok := parseChunkSize(b[:i+1])
		if !ok {
			return false
		}
		b = b[i+1:]
		if size == 0 {
			// The trailer section: field lines up to an empty line.
			for {
				j := bytes.IndexByte(b, '\n')
				if j < 0 {
					return false
				}
				if j == 0 || (j == 1 && b[0] == '\r') {
					return true
				}
				b = b[j+1:]
			}
		}
		if int64(len(b)) < size+2 {
			return false
		}
		b = b[size+2:]
	}
}

// tryTimes are the time limits of one try at a backend, and when it
// began and ended.
type tryTimes struct {
	// start is when the try began (the caller's reading of the clock);
	// ended is when it ended, set by try.
	start, ended time.Time
	// header is when the answer's header must have arrived (the try's
	// deadline: per-try and header timeouts, and end).
	header time.Time
	// wait is how long the header may take after a streamed request
	// body was sent (the per-try or header timeout).
	wait time.Duration
	// idle is the longest the body may go without a byte.
	idle time.Duration
	// end is when the whole answer must be done (response_timeout);
	// zero when there is no such limit.
	end time.Time
}

// bodyDeadline is the read deadline of the next body read at now: idle
// from now, capped by end.
func (t *tryTimes) bodyDeadline(now time.Time) time.Time {
	d := now.Add(t.idle)
	if !t.end.IsZero() && t.end.Before(d) {
		return t.end
	}
	return d
}
