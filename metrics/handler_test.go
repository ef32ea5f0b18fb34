package metrics

import (
	"compress/gzip"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lbtrust/lb/pool"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/valyala/fasthttp"
)

// serveMetrics serves m.Handler on a loopback port and returns its URL.
func serveMetrics(t *testing.T, m *Metrics) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: m.Handler()}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	t.Cleanup(func() { srv.Shutdown(); ln.Close(); <-done })
	return "http://" + ln.Addr().String() + "/metrics"
}

// TestHandlerServesEveryFamily: a scrape over a socket, gzipped or not,
// is valid Prometheus text with the registry's families and the pool
// families, under promhttp's Content-Type; HEAD has no body.
func TestHandlerServesEveryFamily(t *testing.T) {
	pools := goldenPools(t)
	m := New(func() []*pool.Pool { return pools })
	m.Transition(pool.Transition{Pool: "web", From: pool.StateHealthy, To: pool.StateDraining, Reason: pool.ReasonAdminDrain})
	url := serveMetrics(t, m)
	c := &http.Client{Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()

	for _, enc := range []string{"gzip", "identity"} {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Accept-Encoding", enc)
		// What Prometheus asks for: text is what it gets.
		req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.2,*/*;q=0.1")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body io.Reader = resp.Body
		if got := resp.Header.Get("Content-Encoding"); (got == "gzip") != (enc == "gzip") {
			t.Fatalf("Accept-Encoding %s: Content-Encoding %q", enc, got)
		}
		if enc == "gzip" {
			z, err := gzip.NewReader(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			body = z
		}
		text, err := io.ReadAll(body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != textContentType {
			t.Fatalf("%s: %d %q", enc, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := parser.TextToMetricFamilies(strings.NewReader(string(text)))
		if err != nil {
			t.Fatalf("%s: not valid Prometheus text: %v\n%s", enc, err, text)
		}
		for _, name := range []string{"go_goroutines", NameTransitions, NameDrains, NameState, NameRequests, NameDiscoveryStale, NameRetries} {
			if _, ok := fams[name]; !ok {
				t.Fatalf("%s: no family %s in:\n%s", enc, name, text)
			}
		}
		if n := len(fams[NameState].GetMetric()); n != 5*5 {
			t.Fatalf("%s: %d lb_backend_state series, want 25 (5 backends, 5 states)", enc, n)
		}
	}

	req, _ := http.NewRequest(http.MethodHead, url, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(b) != 0 {
		t.Fatalf("HEAD: %d with %d bytes", resp.StatusCode, len(b))
	}
}

// TestScrapeAllocatesLittle: a scrape of 10,000 backends allocates under
// 1 MiB (issue 14: it was 179 MB), about what one of 100 does; under the
// race detector, whose sync.Pool drops buffers at random, under 10 MiB.
func TestScrapeAllocatesLittle(t *testing.T) {
	p := benchPool(t, 10_000)
	defer p.Close()
	m := New(func() []*pool.Pool { return []*pool.Pool{p} })
	h := m.Handler()
	var ctx fasthttp.RequestCtx
	res := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			scrape(b, h, &ctx)
		}
	})
	limit := int64(1 << 20)
	if raceEnabled {
		limit = 10 << 20
	}
	if got := res.AllocedBytesPerOp(); got > limit {
		t.Fatalf("a scrape of 10,000 backends allocates %d bytes, want < %d", got, limit)
	}
}
