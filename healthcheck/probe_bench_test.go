package healthcheck

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"sync"
	"testing"
)

// benchBackend answers every request on a loopback listener with
// "200 ok", keeping the connection open unless the request says
// "Connection: close": the least a backend can do, so the figure is mostly
// the prober's. It stops when the benchmark ends.
func benchBackend(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { serveOK(conn) })
		}
	})
	b.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

// serveOK answers each request read from conn until the client closes it
// or asks to.
func serveOK(conn net.Conn) {
	defer conn.Close()
	br := bufio.NewReader(conn)
	for {
		closing := false
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			if bytes.EqualFold(bytes.TrimSpace(line), []byte("Connection: close")) {
				closing = true
			}
			if len(line) <= 2 {
				break
			}
		}
		if _, err := io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); err != nil || closing {
			return
		}
	}
}

// BenchmarkHTTPProbe is the cost of one HTTP probe as Run makes it (the
// prober's own CPU and allocations plus a fasthttp backend's, both in this
// process), and as Probe makes it (a fresh connection every time).
func BenchmarkHTTPProbe(b *testing.B) {
	addr := benchBackend(b)
	c, err := New(Spec{}, addr, &recorder{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("run", func(b *testing.B) {
		p := c.prober
		if o, ok := p.(opener); ok {
			s := o.open(&probeBuffers{})
			defer s.close()
			p = s
		}
		b.ReportAllocs()
		for b.Loop() {
			if res := c.probe(ctx, p); !res.Passed() {
				b.Fatal(res)
			}
		}
	})
	b.Run("fresh", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if res := c.Probe(ctx); !res.Passed() {
				b.Fatal(res)
			}
		}
	})
}
