package healthcheck

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"strconv"

	"github.com/lbtrust/lb/config"
	"github.com/valyala/fasthttp"
)

// UserAgent is the User-Agent header of every HTTP probe, so backends can
// tell (and exclude from their access logs) the load balancer's checks.
const UserAgent = "lb-healthcheck"

// MaxBodySize is the most bytes of an answer's body a probe reads. The body
// only matters for the drain signal, a short JSON object; a longer body is
// cut there (and so is not a drain signal) without failing the probe.
const MaxBodySize = 64 << 10

// readBufferSize bounds the answer's status line and headers together; a
// larger header block fails the probe with check_error.
const readBufferSize = 8 << 10

// httpProber sends one GET per probe over a connection of its own.
//
// Why not fasthttp.Client/HostClient or net/http: a probe must observe the
// backend as it is now, so it must not reuse a kept-alive connection (one to
// a killed backend misreports, which is why HAProxy connects for every
// check), and it must leave nothing running once it returns. HostClient
// pools connections and starts a background cleaner goroutine; net/http
// would be a second HTTP stack whose per-connection goroutines exit
// asynchronously. So the prober dials itself (ctx-aware dial and DNS), binds
// the connection's deadline to the probe's context (Timeout and cancellation
// both wake a blocked read at once, no goroutine), writes a request built
// once in New, and parses the answer with fasthttp's Response, the same
// parser the proxy uses on the request path. Safe for concurrent use: it is
// read-only after construction.
type httpProber struct {
	address  string              // host:port to dial
	request  []byte              // the complete request, "GET ... \r\n\r\n"
	expected config.StatusRanges // statuses that pass
	tls      *tls.Config         // nil for plain HTTP
}

// newHTTPProber builds the prober for spec (defaults applied, validated)
// dialing target.
func newHTTPProber(spec Spec, target string) *httpProber {
	host := spec.Host
	if host == "" {
		host = target
	}
	req := "GET " + spec.Path + " HTTP/1.1\r\n" +
		"Host: " + host + "\r\n" +
		"User-Agent: " + UserAgent + "\r\n" +
		"Connection: close\r\n" +
		"\r\n"
	return &httpProber{address: target, request: []byte(req), expected: spec.ExpectedStatus,
		tls: probeTLSConfig(spec.TLS, target, "http/1.1")}
}

// probe performs one exchange bounded by ctx and classifies it. It fills
// Outcome, Code, Status and Err; the caller sets At and Latency.
func (p *httpProber) probe(ctx context.Context) Result {
	conn, err := dial(ctx, p.address)
	if err != nil {
		return failure(err)
	}
	defer conn.Close()
	release := bindContext(ctx, conn)
	defer release()
	if p.tls != nil {
		tc, err := clientHandshake(ctx, conn, p.tls)
		if err != nil {
			return classifyHandshake(err)
		}
		conn = tc
	}

	if _, err := conn.Write(p.request); err != nil {
		return failure(err)
	}
	rec := &readRecorder{conn: conn}
	br := bufio.NewReaderSize(rec, readBufferSize)
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	err = resp.ReadLimitBody(br, MaxBodySize)
	if err != nil && !errors.Is(err, fasthttp.ErrBodyTooLarge) {
		if (err == io.EOF || err == fasthttp.ErrTimeout) && rec.err != nil {
			// fasthttp reports every failure before the first byte as one
			// of these two; the connection's own error says which it was
			// (a reset, a deadline) and names the addresses.
			err = rec.err
		}
		return Result{Outcome: classifyReadError(err, rec.err), Err: err}
	}
	code := resp.StatusCode()
	return Result{Outcome: classifyStatus(code, resp.Body(), p.expected), Code: code, Status: strconv.Itoa(code)}
}

// failure is the result of a probe that got no answer because of err.
func failure(err error) Result {
	return Result{Outcome: classifyError(err), Err: err}
}
