package proxy

import (
	"strings"
	"sync/atomic"
	"testing"
)

func TestClassifyRequest(t *testing.T) {
	const ok = Reject(255) // marks "passed" in the table
	for _, tc := range []struct {
		name, method, proto, raw string
		want                     Reject
	}{
		{"plain GET", "GET", "HTTP/1.1", "Host: a\r\nAccept: */*\r\n\r\n", ok},
		{"HTTP/1.0 without Host", "GET", "HTTP/1.0", "\r\n", ok},
		{"bare LF lines", "GET", "HTTP/1.1", "Host: a\nAccept: */*\n\n", ok},
		{"POST with Content-Length", "POST", "HTTP/1.1", "Host: a\r\nContent-Length: 5\r\n\r\n", ok},
		{"POST chunked", "POST", "HTTP/1.1", "Host: a\r\ntransfer-encoding:  ChUnKeD \r\n\r\n", ok},
		{"Content-Length with chunked (normalised)", "POST", "HTTP/1.1", "Host: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n", ok},
		{"GET with Content-Length 0", "GET", "HTTP/1.1", "Host: a\r\nContent-Length: 0\r\n\r\n", ok},
		{"HEAD with Content-Length 000", "HEAD", "HTTP/1.1", "Host: a\r\nContent-Length: 000\r\n\r\n", ok},
		{"underscore name", "GET", "HTTP/1.1", "Host: a\r\nMy_Custom_Header: 1\r\n\r\n", ok},
		{"name containing a framing name", "GET", "HTTP/1.1", "Host: a\r\nX-Transfer-Encoding: chunked\r\n\r\n", ok},
		{"HTTP/1.2", "GET", "HTTP/1.2", "Host: a\r\n\r\n", RejectVersion},
		{"HTTP/2.0", "GET", "HTTP/2.0", "Host: a\r\n\r\n", RejectVersion},
		{"HTTP/0.9", "GET", "HTTP/0.9", "\r\n", RejectVersion},
		{"obs-fold", "GET", "HTTP/1.1", "Host: a\r\nX-A: a\r\n b\r\n\r\n", RejectDesyncAmbiguous},
		{"obs-fold mimicking a header", "POST", "HTTP/1.1", "Host: a\r\nX-A: a\r\n\tContent-Length: 10\r\n\r\n", RejectDesyncAmbiguous},
		{"space inside a name", "POST", "HTTP/1.1", "Host: a\r\nTransfer- Encoding: chunked\r\n\r\n", RejectDesyncAmbiguous},
		{"Transfer_Encoding", "POST", "HTTP/1.1", "Host: a\r\nTransfer_Encoding: chunked\r\n\r\n", RejectDesyncAmbiguous},
		{"Content---Length", "POST", "HTTP/1.1", "Host: a\r\nContent---Length: 1\r\n\r\n", RejectDesyncAmbiguous},
		{"line without colon", "GET", "HTTP/1.1", "Host: a\r\nnocolon\r\n\r\n", RejectDesyncAmbiguous},
		{"GET with a body", "GET", "HTTP/1.1", "Host: a\r\nContent-Length: 10\r\n\r\n", RejectDesyncAmbiguous},
		{"HEAD chunked", "HEAD", "HTTP/1.1", "Host: a\r\nTransfer-Encoding: chunked\r\n\r\n", RejectDesyncAmbiguous},
		{"identity", "POST", "HTTP/1.1", "Host: a\r\nTransfer-Encoding: identity\r\n\r\n", RejectDesyncSevere},
		{"gzip, chunked", "POST", "HTTP/1.1", "Host: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", RejectTransferCoding},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, refused := classifyRequest([]byte(tc.method), []byte(tc.proto), []byte(tc.raw))
			if !refused {
				r = ok
			}
			if r != tc.want {
				t.Errorf("got %v, want %v", r, tc.want)
			}
		})
	}
}

func TestTransferCodingVerdict(t *testing.T) {
	const ok = Reject(255)
	for _, tc := range []struct {
		value string
		want  Reject
	}{
		{"chunked", ok},
		{" Chunked\t", ok},
		{"gzip, chunked", RejectTransferCoding},
		{"deflate , identity,\tchunked", RejectTransferCoding},
		{"chunked;ext=1", RejectTransferCoding},
		{"\t\tchunked;custom_param;\t\t", RejectTransferCoding},
		{"gzip", RejectDesyncSevere},
		{"identity", RejectDesyncSevere},
		{"xchunked", RejectDesyncSevere},
		{"chunk", RejectDesyncSevere},
		{"chunked, gzip", RejectDesyncSevere},
		{"chunked,chunked", RejectDesyncSevere},
		{"chunked;a=1, chunked", RejectDesyncSevere},
		{"\u00a0chunked", RejectDesyncSevere},
		{"chunked\u00a0", RejectDesyncSevere},
		{"", RejectDesyncSevere},
		{",", RejectDesyncSevere},
	} {
		r, bad := transferCodingVerdict([]byte(tc.value))
		if !bad {
			r = ok
		}
		if r != tc.want {
			t.Errorf("%q: got %v, want %v", tc.value, r, tc.want)
		}
	}
}

func TestIsVersionToken(t *testing.T) {
	for s, want := range map[string]bool{
		"HTTP/2": true, "HTTP/1.10": true, "HTTP/3.0": true,
		"HTTP/": false, "HTTP/1.": false, "HTTP/1.1 ": false, "HTTP/x": false, "http/2": false, "HTTP/1.1 HTTP/1.1": false,
	} {
		if got := isVersionToken(s); got != want {
			t.Errorf("%q: %v, want %v", s, got, want)
		}
	}
}

// TestRefusals sends requests the guard or fasthttp's parser refuses
// through the LB and checks each answer (status, JSON error, connection
// closed), the reason counted, and that nothing reached the backend. It
// pins errorVerdict's reading of fasthttp's error texts.
func TestRefusals(t *testing.T) {
	var n atomic.Int64
	up := &Upstream{Pool: newTestPool(t, "web", okBackend(t, "ok", &n))}
	h := NewHandler("public", Routes{Default: up}, nil)
	l := startLB(t, h, ServerOptions{})
	for _, tc := range []struct {
		name, req string
		status    int
		msg       string
		reason    Reject
	}{
		{"HTTP/1.2 (guard)", "GET / HTTP/1.2\r\nHost: x\r\n\r\n", 505, "http version not supported", RejectVersion},
		{"HTTP/2.0 (guard)", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, "http version not supported", RejectVersion},
		{"HTTP/2 (parser)", "GET / HTTP/2\r\nHost: x\r\n\r\n", 505, "http version not supported", RejectVersion},
		{"HTTP/1.10 (parser)", "GET / HTTP/1.10\r\nHost: x\r\n\r\n", 505, "http version not supported", RejectVersion},
		{"garbled version", "GET / HTTPS/1.1\r\nHost: x\r\n\r\n", 400, "bad request", RejectBadRequest},
		{"gzip, chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, "transfer coding not implemented", RejectTransferCoding},
		{"chunked with a parameter", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked;a=b\r\n\r\n", 501, "transfer coding not implemented", RejectTransferCoding},
		{"gzip alone", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400, "ambiguous request framing", RejectDesyncSevere},
		{"identity (guard)", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", 400, "ambiguous request framing", RejectDesyncSevere},
		{"two Transfer-Encoding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "ambiguous request framing", RejectDesyncSevere},
		{"two Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400, "ambiguous request framing", RejectDesyncSevere},
		{"Content-Length list", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1,1\r\n\r\na", 400, "ambiguous request framing", RejectDesyncSevere},
		{"Content-Length overflow", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551616\r\n\r\n", 400, "ambiguous request framing", RejectDesyncSevere},
		{"HTTP/1.0 chunked", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "ambiguous request framing", RejectDesyncAmbiguous},
		{"Transfer_Encoding (guard)", "POST / HTTP/1.1\r\nHost: x\r\nTransfer_Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc", 400, "ambiguous request framing", RejectDesyncAmbiguous},
		{"obs-fold (guard)", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400, "ambiguous request framing", RejectDesyncAmbiguous},
		{"GET with a body (guard)", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", 400, "ambiguous request framing", RejectDesyncAmbiguous},
		{"missing Host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400, "missing host header", RejectMissingHost},
		{"empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 400, "missing host header", RejectMissingHost},
		{"control character in a value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n", 400, "bad request", RejectBadRequest},
		{"NUL in a value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400, "bad request", RejectBadRequest},
		{"DEL in a value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7fb\r\n\r\n", 400, "bad request", RejectBadRequest},
		{"bare CR in a value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400, "bad request", RejectBadRequest},
		{"control character in the target", "GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad request", RejectBadRequest},
		{"tab in the target", "GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad request", RejectBadRequest},
		{"control character in the method", "G\x01T / HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad request", RejectBadRequest},
		{"space before colon", "GET / HTTP/1.1\r\nHost: x\r\nX-A : 1\r\n\r\n", 400, "bad request", RejectBadRequest},
		{"forbidden trailer", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nContent-Length: 5\r\n\r\n", 400, "bad request", RejectBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := h.Rejections().Count(tc.reason)
			c := l.conn(t)
			resp := c.raw(tc.req, false)
			wantJSONError(t, resp, tc.status, tc.msg, "")
			if !resp.ConnectionClose() {
				t.Errorf("no Connection: close on a refusal")
			}
			if got := h.Rejections().Count(tc.reason) - before; got != 1 {
				t.Errorf("%v counted %d times, want 1 (%v)", tc.reason, got, h.Rejections().Snapshot())
			}
			wantClosed(t, c)
		})
	}
	if n.Load() != 0 {
		t.Errorf("backend got %d requests, want none", n.Load())
	}
}

// wantClosed fails t unless the LB closes c (EOF) with nothing more sent.
func wantClosed(t *testing.T, c *conn) {
	t.Helper()
	b, err := c.br.ReadByte()
	if err == nil {
		t.Errorf("the LB sent %q after its answer", b)
	} else if !isReset(err) && !strings.Contains(err.Error(), "EOF") {
		t.Errorf("connection not closed after the answer: %v", err)
	}
}

func BenchmarkClassifyRequest(b *testing.B) {
	method, proto := []byte("GET"), []byte("HTTP/1.1")
	raw := []byte("Host: www.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
		"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\n" +
		"Accept-Encoding: gzip, deflate, br\r\nConnection: keep-alive\r\nCookie: session=0123456789abcdef0123456789abcdef\r\n" +
		"Upgrade-Insecure-Requests: 1\r\nX-Request-Id: 0123456789abcdef\r\n\r\n")
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, refused := classifyRequest(method, proto, raw); refused {
			b.Fatal("refused")
		}
	}
}

func TestClassifyRequestAllocs(t *testing.T) {
	method, proto := []byte("POST"), []byte("HTTP/1.1")
	raw := []byte("Host: a\r\nContent-Length: 5\r\nTransfer-Encoding: gzip, chunked\r\nX-A: 1\r\n\r\n")
	if n := testing.AllocsPerRun(100, func() { classifyRequest(method, proto, raw) }); n != 0 {
		t.Errorf("%v allocations per classification, want 0", n)
	}
}
