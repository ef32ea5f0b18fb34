package admin

import (
	"strconv"
	"testing"

	"github.com/lbtrust/lb/pool"
	"github.com/lbtrust/lb/pool/pooltest"
	"github.com/valyala/fasthttp"
)

// benchPool returns a pool "web" of n HEALTHY backends (pooltest.Healthy).
// The caller closes it.
func benchPool(tb testing.TB, n int) *pool.Pool { return pooltest.Healthy(tb, n) }

// countWriter counts what is written to it.
type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

// BenchmarkStatus is one GET /status of an LB with one pool of 100 or
// 10,000 backends, its whole body read (issue 14). body-bytes is the
// answer's size.
func BenchmarkStatus(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			p := benchPool(b, n)
			defer p.Close()
			h := New(Options{Version: "bench", Pools: func() []*pool.Pool { return []*pool.Pool{p} },
				Listeners: func() []ListenerState {
					return []ListenerState{{Name: "public", Address: "127.0.0.1:8080", Bound: true}}
				}})
			var ctx fasthttp.RequestCtx
			size := 0
			b.ReportAllocs()
			for b.Loop() {
				ctx.Request.Reset()
				ctx.Response.Reset()
				ctx.Request.SetRequestURI("/status")
				h.ServeHTTP(&ctx)
				if c := ctx.Response.StatusCode(); c != fasthttp.StatusOK {
					b.Fatalf("GET /status: %d", c)
				}
				var n countWriter
				if err := ctx.Response.BodyWriteTo(&n); err != nil {
					b.Fatal(err)
				}
				size = int(n)
			}
			b.ReportMetric(float64(size), "body-bytes")
		})
	}
}
