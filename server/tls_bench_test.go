package server

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/demo"
	"github.com/lbtrust/lb/internal/testcert"
	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
)

// benchLB runs an LB with a plain listener "plain" and a TLS listener
// "tls" (ECDSA P-256 certificate for bench.test) in front of one demo
// backend, and returns it with the client TLS config that verifies it.
func benchLB(b *testing.B) (*LB, *tls.Config) {
	b.Helper()
	backend, err := demo.Start("127.0.0.1:0", "bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { backend.Close() })
	ca := testcert.MustCA("bench CA")
	dir := b.TempDir()
	certFile, keyFile, err := ca.MustIssue("bench.test").WriteFiles(dir, "bench")
	if err != nil {
		b.Fatal(err)
	}
	src := fmt.Sprintf(`
listener "plain" {
  address = "127.0.0.1:0"
  pool    = "web"
}
listener "tls" {
  address = "127.0.0.1:0"
  pool    = "web"
  tls {
    certificate "bench" {
      cert_file = %q
      key_file  = %q
    }
  }
}
pool "web" {
  health_check {
    interval = "1s"
    timeout  = "500ms"
  }
  backend %q {}
}
`, certFile, keyFile, backend.Addr())
	path := filepath.Join(dir, "lb.hcl")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg, diags := config.Load(path)
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	lb := startLB(b, cfg, Options{})
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, ok := stateOf(lb, "web", backend.Addr())
		if ok && st.State == pool.StateHealthy {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("backend never healthy")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return lb, &tls.Config{ServerName: "bench.test", RootCAs: ca.Pool()}
}

// BenchmarkTLSHandshake measures full TLS handshakes (no session
// resumption) with the LB's TLS listener over loopback: TLS 1.3, ECDSA
// P-256, X25519. The client runs in the same process, so with -cpu 1
// one core does both sides; handshakes/s is the server's rate only if
// the client's share is subtracted.
func BenchmarkTLSHandshake(b *testing.B) {
	for _, v := range []struct {
		name    string
		version uint16
	}{{"tls1.3", tls.VersionTLS13}, {"tls1.2", tls.VersionTLS12}} {
		b.Run(v.name, func(b *testing.B) {
			lb, cfg := benchLB(b)
			addr := lb.ListenerAddr("tls").String()
			cfg.MaxVersion = v.version
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				conn, err := tls.Dial("tcp", addr, cfg)
				if err != nil {
					b.Fatal(err)
				}
				conn.Close()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "handshakes/s")
		})
	}
}

// BenchmarkProxyOverTLS compares requests proxied through the real
// server on loopback over one kept-alive client connection per worker,
// plain HTTP against TLS (the client's handshake happens once, outside
// the measurement).
func BenchmarkProxyOverTLS(b *testing.B) {
	for _, name := range []string{"plain", "tls"} {
		b.Run(name, func(b *testing.B) {
			lb, cfg := benchLB(b)
			addr := lb.ListenerAddr(name).String()
			c := &fasthttp.HostClient{Addr: addr, IsTLS: name == "tls", TLSConfig: cfg, MaxConns: 64,
				Dial: func(a string) (net.Conn, error) { return net.DialTimeout("tcp", a, 5*time.Second) }}
			defer c.CloseIdleConnections()
			scheme := "http"
			if name == "tls" {
				scheme = "https"
			}
			url := scheme + "://bench.test/"
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(resp)
				for pb.Next() {
					req.SetRequestURI(url)
					if err := c.Do(req, resp); err != nil || resp.StatusCode() != 200 {
						b.Fatalf("%v %d", err, resp.StatusCode())
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
