package proxy

import (
	"bufio"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbtrust/lb/balancer"
	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
)

// TestUpgradeCapConcurrent: a backend's connection cap (ClientOptions
// MaxConns, max_conns_per_backend) bounds its tunnels also when many
// handshakes run at once. The backend holds every handshake it receives
// until each client has either reached it or been answered, so a check
// that looked at the open tunnels alone would let every client through
// (none is open yet). With the place reserved before the dial, exactly
// the cap reach the backend and the others get the documented 503; the
// backend never has more tunnels open than the cap. Once they close,
// their places are free again.
func TestUpgradeCapConcurrent(t *testing.T) {
	const (
		limit   = 2
		clients = 12
	)
	var arrived, open, peak atomic.Int64
	gate := make(chan struct{})
	addr := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, ok := readRequest(br); !ok {
			return
		}
		arrived.Add(1)
		<-gate
		n := open.Add(1)
		defer open.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		if _, err := c.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x-test\r\n\r\n")); err != nil {
			return
		}
		io.Copy(io.Discard, br) // until the tunnel ends
	})
	var openGate sync.Once
	release := func() { openGate.Do(func() { close(gate) }) }
	t.Cleanup(release) // before rawBackend's cleanup waits for its handlers

	pol, _ := balancer.New(balancer.RoundRobin)
	p := pool.New(pool.Options{Name: "capped", Policy: pol})
	b, _, err := p.Add(addr, 1)
	if err != nil {
		t.Fatal(err)
	}
	bc := NewBackendClient(addr, ClientOptions{MaxConns: limit, IdleConnTimeout: testIdle})
	t.Cleanup(bc.CloseIdle)
	b.Attach(bc)
	b.ObserveCheck(pool.CheckResult{Outcome: pool.ReasonCheckPassed})
	l := startTCPLB(t, NewHandler("public", Routes{Default: &Upstream{Pool: p, Retry: noRetries(t)}}, nil), ServerOptions{})

	type result struct {
		conn *conn
		resp *fasthttp.Response
		err  error
	}
	handshake := func(c *conn) result {
		c.c.SetDeadline(time.Now().Add(20 * time.Second))
		if _, err := c.c.Write([]byte("GET /tunnel HTTP/1.1\r\nHost: lb\r\nConnection: Upgrade\r\nUpgrade: x-test\r\n\r\n")); err != nil {
			return result{err: err}
		}
		resp := &fasthttp.Response{}
		if err := resp.Header.Read(c.br); err != nil {
			return result{err: err}
		}
		if resp.StatusCode() != fasthttp.StatusSwitchingProtocols {
			if err := resp.ReadBody(c.br, 0); err != nil {
				return result{err: err}
			}
		}
		c.c.SetDeadline(time.Time{})
		return result{conn: c, resp: resp}
	}

	results := make(chan result, clients)
	var refused atomic.Int64
	for range clients {
		c := l.conn(t)
		go func() {
			r := handshake(c)
			if r.err == nil && r.resp.StatusCode() != fasthttp.StatusSwitchingProtocols {
				refused.Add(1)
			}
			results <- r
		}()
	}
	eventually(t, "every handshake reached the backend or was answered", func() bool {
		return arrived.Load()+refused.Load() == clients
	})
	release()

	var admitted []*conn
	for range clients {
		r := <-results
		switch {
		case r.err != nil:
			t.Errorf("handshake: %v", r.err)
		case r.resp.StatusCode() == fasthttp.StatusSwitchingProtocols:
			admitted = append(admitted, r.conn)
		default:
			wantJSONError(t, r.resp, fasthttp.StatusServiceUnavailable, "backend connection limit reached", "capped")
		}
	}
	if n := arrived.Load(); n != limit {
		t.Errorf("%d handshakes reached the backend at once, want the cap, %d", n, limit)
	}
	if n := peak.Load(); n > limit {
		t.Errorf("backend had %d tunnels open at once, cap %d", n, limit)
	}
	if len(admitted) != limit {
		t.Errorf("%d upgrades admitted, want %d", len(admitted), limit)
	}
	if t.Failed() {
		return
	}

	closeAll := func() {
		for _, c := range admitted {
			c.c.Close()
		}
		admitted = nil
		eventually(t, "tunnels closed", func() bool {
			return open.Load() == 0 && b.InFlight() == 0 && l.h.UpgradedConns() == 0
		})
	}
	closeAll()
	defer closeAll()
	for i := range limit {
		r := handshake(l.conn(t))
		if r.err != nil || r.resp.StatusCode() != fasthttp.StatusSwitchingProtocols {
			t.Fatalf("upgrade %d after the first ones closed: %v %v; want 101 (their places freed)", i, r.err, r.resp)
		}
		admitted = append(admitted, r.conn)
	}
}
