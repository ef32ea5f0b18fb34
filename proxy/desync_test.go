package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// desyncResult is what one corpus case did through the LB.
type desyncResult struct {
	status int
	// announcedClose: the answer carried "Connection: close".
	announcedClose bool
	// closed: the LB closed the client connection after answering; when
	// it did not announce a close, a second request on the connection
	// was answered instead.
	closed    bool
	forwarded []seenRequest
	err       error
}

// sendCase sends c's raw bytes on a fresh connection to l, reads the
// answer and then either waits for the LB to close the connection (when
// it announced a close) or checks that the connection still serves a
// plain GET. It returns the result, with what the backend received for
// c, and the body a backend should have received.
func sendCase(t *testing.T, l *lb, be *captureBackend, c *desyncCase, refused bool) (desyncResult, string) {
	t.Helper()
	raw, body := c.raw()
	before := len(be.requests())
	conn, err := l.dial()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	var res desyncResult
	// The LB may answer and close before it has read everything (a
	// refused request's body is never read): write in the background.
	werr := make(chan error, 1)
	go func() {
		_, err := conn.Write(raw)
		werr <- err
	}()
	defer func() { conn.Close(); <-werr }()
	br := bufio.NewReader(conn)
	resp := &fasthttp.Response{SkipBody: c.Method == "HEAD"}
	if res.err = resp.Read(br); res.err != nil {
		return res, body
	}
	res.status = resp.StatusCode()
	res.announcedClose = resp.ConnectionClose()
	res.forwarded = be.requests()[before:]
	if res.announcedClose {
		// Only an error answer to a HEAD may carry a body here: fasthttp
		// forgets the method of a request it cannot parse.
		n, err := io.Copy(io.Discard, br)
		res.closed = err == nil || isReset(err)
		if n > 0 && !(c.Method == "HEAD" && refused) {
			res.err = errors.New("the LB sent bytes after its answer")
		}
		return res, body
	}
	if _, err := conn.Write([]byte("GET /again HTTP/1.1\r\nHost: lb.test\r\n\r\n")); err != nil {
		res.err = err
		return res, body
	}
	again := &fasthttp.Response{}
	if err := again.Read(br); err != nil || again.StatusCode() != 200 {
		res.err = errors.New("a second request on the kept connection failed")
	}
	return res, body
}

// isReset reports whether err is a connection torn down by the peer (an
// in-memory pipe reports a closed pipe).
func isReset(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return strings.Contains(err.Error(), "closed") || strings.Contains(err.Error(), "reset")
}

// corpusExpect is the LB's answer to a corpus case: refused with status
// (the connection closed, nothing forwarded) or, with forward, passed to
// the backend with method, target and body intact.
type corpusExpect struct {
	status  int
	forward bool
	why     string
	// uri is the target the backend gets when it is not the case's.
	uri string
}

// tierDefault is the answer the issue asks for by tier: Severe and
// Ambiguous refused with 400, Compliant and Acceptable forwarded.
func tierDefault(tier string) corpusExpect {
	switch tier {
	case "Severe", "Ambiguous":
		return corpusExpect{status: 400}
	}
	return corpusExpect{status: 200, forward: true}
}

// corpusDeviations are the cases whose answer differs from tierDefault,
// by case id, each with its reason (README "Request smuggling and
// protocol edges" documents the same policy).
func corpusDeviations() map[string]corpusExpect {
	rfcWS := corpusExpect{status: 400, why: "whitespace or a non-token byte in a field name: RFC 9112 section 5.1 requires 400"}
	ctl := corpusExpect{status: 400, why: "control character in a header value: 400"}
	coding := corpusExpect{status: 501, why: "chunked is final but other codings or parameters come with it: 501 (RFC 9112 section 6.1), the LB decodes no other coding"}
	manyTE := corpusExpect{status: 400, why: "several Transfer-Encoding lines, the first not ending in chunked: the body length cannot be determined, 400 (RFC 9112 section 6.3)"}
	version := corpusExpect{status: 505, why: "HTTP version other than 1.0/1.1: 505"}
	badLine := func(what string) corpusExpect {
		return corpusExpect{status: 400, why: what + ": malformed request line"}
	}
	normalised := corpusExpect{status: 200, forward: true, why: "Content-Length with Transfer-Encoding: chunked: forwarded by the chunked framing with one Content-Length, client connection closed (RFC 9112 section 6.3)"}
	return map[string]corpusExpect{
		"acceptable#0":              rfcWS,
		"acceptable#1":              rfcWS,
		"acceptable#2":              rfcWS,
		"acceptable#3":              rfcWS,
		"acceptable#6":              version,
		"acceptable#7":              badLine("no HTTP version (an HTTP/0.9 simple request)"),
		"acceptable#8":              version,
		"bad-header-characters#11":  rfcWS,
		"bad-header-characters#12":  rfcWS,
		"bad-header-characters#13":  ctl,
		"bad-header-characters#14":  ctl,
		"uri-specific-test-cases#1": badLine("a space after the version"),
		"uri-specific-test-cases#3": {status: 400, why: "unescaped spaces in the target: RFC 9112 section 3.2 says 400, not guessing"},
		"more-compliant-tests#5":    coding,
		"more-compliant-tests#7":    coding,
		"more-compliant-tests#8":    manyTE,
		"more-compliant-tests#9":    coding,
		"rfc-compliant#8":           manyTE,
		"rfc-compliant#9":           coding,
		"rfc-compliant#10":          manyTE,
		"rfc-compliant#11":          {status: 200, forward: true, why: "forwarded; the fragment ('#' onwards) is not part of a request target and is dropped", uri: "/user:pass123@www.example.com:8080/site/index.php?action=login%20++~!@"},
		"rfc-compliant#13":          badLine("an empty request target"),
		"ambiguous#10":              normalised,
		"ambiguous#25":              version,
		"real-life-test-cases#5":    normalised,
		"real-life-test-cases#17":   coding,
		"real-life-test-cases#19":   normalised,
		"real-life-test-cases#23":   normalised,
		"single-case#0":             normalised,
	}
}

// TestDesyncCorpus sends every case of the aws/http-desync-guardian
// corpus as raw bytes through the LB to a backend that frames requests
// itself, and checks the answer against tierDefault and
// corpusDeviations: a refused case gets its status with
// "Connection: close", the connection is then closed and nothing reaches
// the backend; a forwarded one arrives with method, target and body
// intact and one framing header, and its connection stays usable unless
// the LB announced a close. It logs the tally by tier.
func TestDesyncCorpus(t *testing.T) {
	be := startCaptureBackend(t)
	up := &Upstream{Pool: newTestPool(t, "web", be.addr), ResponseTimeout: 30 * time.Second}
	h := NewHandler("public", Routes{Default: up}, nil)
	l := startLB(t, h, ServerOptions{})
	dev := corpusDeviations()
	cases := loadDesyncCorpus(t)
	if len(cases) != 159 {
		t.Fatalf("corpus has %d cases, want 159", len(cases))
	}
	type tally struct{ total, refused, forwarded, normalised int }
	tiers := map[string]*tally{}
	refusedTotal := 0
	for _, c := range cases {
		want, deviates := dev[c.id()]
		if !deviates {
			want = tierDefault(c.Expected.Tier)
		}
		delete(dev, c.id())
		tl := tiers[c.Expected.Tier]
		if tl == nil {
			tl = &tally{}
			tiers[c.Expected.Tier] = tl
		}
		tl.total++
		t.Run(c.id(), func(t *testing.T) {
			res := checkCase(t, l, be, c, want)
			switch {
			case !want.forward:
				tl.refused++
				refusedTotal++
			case res.closed:
				tl.normalised++
			default:
				tl.forwarded++
			}
		})
	}
	if len(dev) > 0 {
		t.Errorf("deviations for cases not in the corpus: %v", dev)
	}
	var sum uint64
	for _, n := range h.Rejections().Snapshot() {
		sum += n
	}
	if sum != uint64(refusedTotal) {
		t.Errorf("Rejections count %d refusals, %d cases were refused", sum, refusedTotal)
	}
	for _, tier := range []string{"Severe", "Ambiguous", "Acceptable", "Compliant"} {
		tl := tiers[tier]
		t.Logf("%-10s %3d cases: %3d refused, %3d forwarded normalised (connection closed), %3d forwarded intact",
			tier, tl.total, tl.refused, tl.normalised, tl.forwarded)
	}
	checkReleased(t, up.Pool)
}

// checkCase sends c and checks the LB's answer against want.
func checkCase(t *testing.T, l *lb, be *captureBackend, c *desyncCase, want corpusExpect) desyncResult {
	t.Helper()
	res, body := sendCase(t, l, be, c, !want.forward)
	if res.err != nil {
		t.Fatalf("%s: %v (%s)", c.Name, res.err, want.why)
	}
	if res.status != want.status {
		t.Errorf("%s: status %d, want %d (%s)", c.Name, res.status, want.status, want.why)
	}
	if !want.forward {
		if !res.closed || !res.announcedClose {
			t.Errorf("%s: refused but connection kept (closed %v, Connection: close %v)", c.Name, res.closed, res.announcedClose)
		}
		if len(res.forwarded) != 0 {
			t.Errorf("%s: refused but the backend got %d requests: %+v", c.Name, len(res.forwarded), res.forwarded)
		}
		return res
	}
	if len(res.forwarded) != 1 {
		t.Fatalf("%s: backend got %d requests, want 1: %+v", c.Name, len(res.forwarded), res.forwarded)
	}
	got := res.forwarded[0]
	if got.framing != "" {
		t.Errorf("%s: backend got %s", c.Name, got.framing)
	}
	uri := c.URI
	if want.uri != "" {
		uri = want.uri
	}
	if got.method != c.Method || got.uri != uri || got.proto != "HTTP/1.1" {
		t.Errorf("%s: backend got %q %q %q, want %q %q HTTP/1.1", c.Name, got.method, got.uri, got.proto, c.Method, uri)
	}
	if got.body != body {
		t.Errorf("%s: backend got a %d-byte body, want the %d bytes sent", c.Name, len(got.body), len(body))
	}
	if len(got.header["Transfer-Encoding"]) != 0 {
		t.Errorf("%s: Transfer-Encoding forwarded: %q", c.Name, got.header["Transfer-Encoding"])
	}
	if cl := got.header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(body)) {
		t.Errorf("%s: forwarded Content-Length %q for a %d-byte body", c.Name, cl, len(body))
	}
	if bothFraming(c) && !res.closed {
		t.Errorf("%s: Content-Length with Transfer-Encoding forwarded but the client connection kept", c.Name)
	}
	return res
}

// bothFraming reports whether c carries exact Content-Length and
// Transfer-Encoding fields.
func bothFraming(c *desyncCase) bool {
	var cl, te bool
	for _, h := range c.Headers {
		cl = cl || strings.EqualFold(h.Name, "Content-Length")
		te = te || strings.EqualFold(h.Name, "Transfer-Encoding")
	}
	return cl && te
}
