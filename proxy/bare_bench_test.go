package proxy

import (
	"net"
	"testing"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// BenchmarkProxyBare is BenchmarkProxy's reference point: the same
// client, in-memory listener and backends, with the LB replaced by the
// smallest fasthttp reverse proxy (a fasthttp.Server whose handler hands
// the request as it is to one HostClient: no header rewriting, routing,
// retries, signals, limits or metrics). BenchmarkProxy's ns/op minus
// this one's is the LB's own cost per request, the part there is to
// cut; what is left here is fasthttp's (both of its ends) and the
// sockets'.
func BenchmarkProxyBare(b *testing.B) {
	b.Run("loopback", func(b *testing.B) {
		addr := startBackend(b, benchBackend)
		benchBare(b, &fasthttp.HostClient{Addr: addr, MaxIdleConnDuration: testIdle})
	})
	b.Run("inmemory", func(b *testing.B) {
		ln := fasthttputil.NewInmemoryListener()
		serveUntilCleanup(b, &fasthttp.Server{Handler: benchBackend, MaxIdleWorkerDuration: testWorkerIdle}, ln)
		benchBare(b, &fasthttp.HostClient{Addr: "backend.inmemory:80", MaxIdleConnDuration: testIdle,
			Dial: func(string) (net.Conn, error) { return ln.Dial() }})
	})
}

// benchBare runs benchThrough's client against a bare proxy to the
// backend of hc.
func benchBare(b *testing.B, hc *fasthttp.HostClient) {
	b.Cleanup(hc.CloseIdleConnections)
	ln := fasthttputil.NewInmemoryListener()
	serveUntilCleanup(b, &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			if err := hc.Do(&ctx.Request, &ctx.Response); err != nil {
				ctx.Error(err.Error(), fasthttp.StatusBadGateway)
			}
		},
		MaxIdleWorkerDuration: testWorkerIdle,
	}, ln)
	benchClient(b, ln.Dial)
}
