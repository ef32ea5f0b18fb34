package metrics

import (
	"io"
	"strconv"
	"testing"

	"github.com/lbtrust/lb/pool"
	"github.com/lbtrust/lb/pool/pooltest"
	"github.com/valyala/fasthttp"
)

// benchPool returns a pool "web" of n HEALTHY backends
// (pooltest.Healthy), each with a few answers counted. The caller closes
// it.
func benchPool(tb testing.TB, n int) *pool.Pool {
	tb.Helper()
	p := pooltest.Healthy(tb, n)
	for i, b := range p.Backends() {
		for range i % 7 {
			b.NoteStatus(200)
		}
		b.NoteStatus(503)
	}
	return p
}

// scrape serves one GET /metrics through h into ctx and reads the whole
// body, as a scraper would; it returns the body's length.
func scrape(tb testing.TB, h fasthttp.RequestHandler, ctx *fasthttp.RequestCtx) int {
	ctx.Request.Reset()
	ctx.Response.Reset()
	ctx.Request.SetRequestURI("/metrics")
	h(ctx)
	if c := ctx.Response.StatusCode(); c != fasthttp.StatusOK {
		tb.Fatalf("GET /metrics: %d", c)
	}
	var n countWriter
	if err := ctx.Response.BodyWriteTo(&n); err != nil {
		tb.Fatal(err)
	}
	return int(n)
}

// countWriter counts what is written to it.
type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)

// BenchmarkScrape is one /metrics scrape (text format, identity) of an
// LB with one pool of 100 or 10,000 backends (issue 14: a scrape of a big
// pool must not set the process's memory). body-bytes is the answer's
// size.
func BenchmarkScrape(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			p := benchPool(b, n)
			defer p.Close()
			m := New(func() []*pool.Pool { return []*pool.Pool{p} })
			h := m.Handler()
			var ctx fasthttp.RequestCtx
			size := 0
			b.ReportAllocs()
			for b.Loop() {
				size = scrape(b, h, &ctx)
			}
			b.ReportMetric(float64(size), "body-bytes")
		})
	}
}
