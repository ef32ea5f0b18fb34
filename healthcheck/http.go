package healthcheck

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strconv"

	"github.com/valyala/fasthttp"
)

// UserAgent is the User-Agent header of every HTTP probe, so backends can
// tell (and exclude from their access logs) the load balancer's checks.
const UserAgent = "lb-healthcheck"

// MaxBodySize is the most bytes of an answer's body a probe reads. The body
// only matters for the drain signal, a short JSON object; a longer body is
// cut there (and so is not a drain signal) without failing the probe.
const MaxBodySize = 64 << 10

// httpProber sends one GET per probe: Probe (a "check now") over a
// connection of its own, a running checker over its session's kept-alive
// connection (httpSession).
//
// Why not fasthttp.Client/HostClient or net/http: a probe must observe the
// backend as it is now, so it must know whether its connection is new or
// reused and never report a stale one's failure (see httpSession), and it
// must leave nothing running once it stops. HostClient pools connections
// out of sight and starts a background cleaner goroutine; net/http would be
// a second HTTP stack whose per-connection goroutines exit asynchronously.
// So the prober dials itself (ctx-aware dial and DNS), binds the
// connection's deadline to the probe's context (Timeout and cancellation
// both wake a blocked read at once, no goroutine), writes a request built
// once in New, and parses the answer with fasthttp's Response, the same
// parser the proxy uses on the request path. Safe for concurrent use: it is
// read-only after construction.
//
// The request is written from a buffer borrowed for the exchange (see
// appendRequest), not kept per prober: at 10,000 backends two prebuilt
// requests each were 1.7 MB of the heap.
type httpProber struct {
	address string      // host:port to dial
	host    string      // the Host header
	spec    *Spec       // path and expected statuses; the Template's
	tls     *tls.Config // nil for plain HTTP
}

// newHTTPProber builds the prober for spec (defaults applied, validated)
// dialing target.
func newHTTPProber(spec *Spec, target string) *httpProber {
	host := spec.Host
	if host == "" {
		host = target
	}
	return &httpProber{
		address: target,
		host:    host,
		spec:    spec,
		tls:     probeTLSConfig(spec.TLS, target, "http/1.1"),
	}
}

// appendRequest appends the probe's request to dst: a GET of path with
// Host and User-Agent, and "Connection: close" when closing.
func (p *httpProber) appendRequest(dst []byte, closing bool) []byte {
	dst = append(dst, "GET "...)
	dst = append(dst, p.spec.Path...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, p.host...)
	dst = append(dst, "\r\nUser-Agent: "+UserAgent+"\r\n"...)
	if closing {
		dst = append(dst, "Connection: close\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// probe performs one exchange on a fresh connection, bounded by ctx, and
// classifies it. It fills Outcome, Code, Status and Err; the caller sets
// At and Latency.
func (p *httpProber) probe(ctx context.Context) Result {
	conn, res, ok := p.connect(ctx)
	if !ok {
		return res
	}
	defer conn.Close()
	release := bindContext(ctx, conn)
	defer release()
	res, _, _ = p.exchange(conn, true, &readRecorder{}, nil)
	return res
}

// open starts a session whose probes share a kept-alive connection.
func (p *httpProber) open(bufs *probeBuffers) session {
	return &httpSession{p: p, bufs: bufs}
}

// freshHTTP is an httpProber whose running checker opens a connection per
// probe (Spec.FreshConnection): the prober without its opener.
type freshHTTP struct{ p *httpProber }

// probe is the httpProber's fresh-connection probe.
func (f freshHTTP) probe(ctx context.Context) Result { return f.p.probe(ctx) }

// connect opens a connection to the backend (TLS when configured) bounded
// by ctx. When it cannot, ok is false and res says why.
func (p *httpProber) connect(ctx context.Context) (conn net.Conn, res Result, ok bool) {
	conn, err := dial(ctx, p.address)
	if err != nil {
		return nil, failure(err), false
	}
	if p.tls == nil {
		return conn, Result{}, true
	}
	release := bindContext(ctx, conn)
	tc, err := clientHandshake(ctx, conn, p.tls)
	release()
	if err != nil {
		_ = conn.Close()
		return nil, classifyHandshake(err), false
	}
	return tc, Result{}, true
}

// exchange writes the request (closing: asking the backend to close) on
// conn and reads and classifies the answer, within whatever deadline conn
// has, reading through rec with buffers from bufs (nil: new ones).
// reusable says the connection is left exactly at the end of a complete
// answer that did not ask to close it, so another request may follow.
// silent says the exchange failed with not one byte of answer because the
// connection was closed or reset: on a connection that had served an
// earlier probe, that is the backend closing an idle connection, not a
// verdict on the backend.
func (p *httpProber) exchange(conn net.Conn, closing bool, rec *readRecorder, bufs *probeBuffers) (res Result, reusable, silent bool) {
	if bufs == nil {
		bufs = &probeBuffers{}
	}
	pio := bufs.get(rec)
	defer bufs.put(pio)
	pio.req = p.appendRequest(pio.req, closing)
	if _, err := conn.Write(pio.req); err != nil {
		return failure(err), false, isReset(err) && !isTimeout(err)
	}
	*rec = readRecorder{conn: conn}
	// Wait for the answer here, not inside fasthttp's parser: a probe
	// spends nearly all its time waiting, and a tick starts hundreds at
	// once (500 at 10,000 backends every 5 s), each goroutine's stack as
	// deep as where it waits (goroutine stacks in use: 4.7 -> 2.6 MB).
	if _, err := pio.br.Peek(1); err != nil && rec.err != nil {
		// Nothing came: what the parser would report (see below).
		out := classifyReadError(rec.err, rec.err)
		return Result{Outcome: out, Err: rec.err}, false, rec.n == 0 && out == OutcomeConnectionReset
	}
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	err := resp.ReadLimitBody(&pio.br, MaxBodySize)
	drained := pio.br.Buffered() == 0
	if outgrew(err, &pio.br) {
		// The header block (or a chunked answer's trailers) does not fit
		// the small buffer: go on in a full-size one.
		large := bufs.grow(&pio.br, rec)
		defer bufs.putLarge(large)
		err = readRest(resp, large.br)
		drained = large.drained()
	}
	if err != nil && !errors.Is(err, fasthttp.ErrBodyTooLarge) {
		if (err == io.EOF || err == fasthttp.ErrTimeout) && rec.err != nil {
			// fasthttp reports every failure before the first byte as one
			// of these two; the connection's own error says which it was
			// (a reset, a deadline) and names the addresses.
			err = rec.err
		}
		out := classifyReadError(err, rec.err)
		return Result{Outcome: out, Err: err}, false, rec.n == 0 && out == OutcomeConnectionReset
	}
	code := resp.StatusCode()
	reusable = err == nil && !resp.ConnectionClose() && drained
	return Result{Outcome: classifyStatus(code, resp.Body(), p.spec.ExpectedStatus), Code: code, Status: strconv.Itoa(code)}, reusable, false
}

// outgrew reports whether reading resp from br failed with err because
// br was too small: a header block or a chunked body's trailers left br
// full and unparsed (fasthttp then reports whatever the cut-off block looks
// like, not always ErrSmallBuffer; a body's bytes are consumed as they are
// read). A header block that is malformed within br's size fails again in
// the full-size buffer, with the same error.
func outgrew(err error, br *bufio.Reader) bool {
	return err != nil && br.Buffered() == br.Size()
}

// inTrailers reports whether resp's header was read and its body is
// chunked: a failure then was in its trailers. A failed header read leaves
// the header reset (no length: 0).
func inTrailers(resp *fasthttp.Response) bool { return resp.Header.ContentLength() == -1 }

// readRest finishes reading resp from br after a smaller reader ran out of
// room: only the trailers when its chunked body was read, else the whole
// answer again (its header block did not fit; interim 1xx answers already
// read are skipped).
func readRest(resp *fasthttp.Response, br *bufio.Reader) error {
	if !inTrailers(resp) {
		return resp.ReadLimitBody(br, MaxBodySize)
	}
	err := resp.Header.ReadTrailer(br)
	if err == io.EOF {
		return io.ErrUnexpectedEOF // closed inside the chunked answer
	}
	return err
}

// failure is the result of a probe that got no answer because of err.
func failure(err error) Result {
	return Result{Outcome: classifyError(err), Err: err}
}
