package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
)

// BenchmarkServerRoundTrip measures the CPU a proxy spends on one small
// GET (cpu-ns/op: this process's user and system time per request;
// user-ns/op the user part, where the proxy's own code runs). The
// client and three fasthttp backends run in a peer process (this test
// binary again, TestRoundTripPeer), so this process does nothing but
// proxy, over kept-alive loopback connections, taking the backends in
// turn. The proxies:
//
//   - lb: the whole load balancer, built by New from an HCL file with the
//     defaults (retries and their budget, passive ejection, silent
//     detection, metrics, a health check of each backend every second);
//   - bare: a minimal fasthttp round-robin proxy (bareProxy) in the same
//     setup: what fasthttp itself needs to proxy a request.
//
// The loads:
//
//   - serial: one request at a time on one client connection, answered
//     at once;
//   - 8conns-1ms: eight client connections each sending one request at
//     a time, answered after 1ms, so about 7,000 requests a second with
//     about eight in flight: close to a fixed rate of 8,000 a second
//     with the proxy's core mostly idle, as in issue 14.
//
// lb minus bare is the load balancer's own cost, the part there is to
// cut. Run it with -cpu 1 for a proxy pinned to one core, and with a
// fixed -benchtime (e.g. 20000x) so each run sets up once. ns/op is the
// wall time per request, both processes included. No test asserts a
// figure.
func BenchmarkServerRoundTrip(b *testing.B) {
	for _, load := range []struct {
		name  string
		conns int
		path  string
	}{{"serial", 1, "/api/items?id=42"}, {"8conns-1ms", 8, "/slow?id=42"}} {
		b.Run("lb/"+load.name, func(b *testing.B) {
			peer := startRoundTripPeer(b)
			src := fmt.Sprintf(`
listener "public" {
  address = "127.0.0.1:0"
  pool    = "web"
}
pool "web" {
  health_check {
    interval = "1s"
    timeout  = "500ms"
  }
  backend %q {}
  backend %q {}
  backend %q {}
}
`, peer.backends[0], peer.backends[1], peer.backends[2])
			cfg, diags := config.Parse([]byte(src), "bench.hcl")
			if diags.HasErrors() {
				b.Fatal(diags.Error())
			}
			lb := startLB(b, cfg, Options{})
			waitHealthy(b, lb, "web", peer.backends)
			peer.bench(b, lb.ListenerAddr("public").String(), load.conns, load.path)
		})
		b.Run("bare/"+load.name, func(b *testing.B) {
			peer := startRoundTripPeer(b)
			peer.bench(b, startBareProxy(b, peer.backends), load.conns, load.path)
		})
	}
}

// roundTripPeerEnv, set in a test binary's environment, makes
// TestRoundTripPeer the benchmark's peer process.
const roundTripPeerEnv = "LB_ROUNDTRIP_PEER"

// roundTripBody is what the peer's backends answer.
var roundTripBody = []byte(`{"hello":"world"}`)

// TestRoundTripPeer is the peer process of BenchmarkServerRoundTrip (it
// skips in a normal test run). It serves roundTripBody on three loopback
// ports (after 1ms for a path starting with /slow), writes "backends
// A,B,C" and then obeys its standard input, one command a line: "proxy
// ADDR" sends the following requests to ADDR, "run N C PATH" sends N GETs
// of PATH on C connections, one at a time on each, and writes "ok" (or
// "error ..."). It exits when its input ends.
func TestRoundTripPeer(t *testing.T) {
	if os.Getenv(roundTripPeerEnv) == "" {
		t.Skip("the peer process of BenchmarkServerRoundTrip")
	}
	addrs := make([]string, 3)
	for i := range addrs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
			if bytes.HasPrefix(ctx.Path(), []byte("/slow")) {
				time.Sleep(time.Millisecond)
			}
			ctx.Response.Header.SetContentType("application/json")
			ctx.SetBody(roundTripBody)
		}}
		go func() { _ = s.Serve(ln) }()
		addrs[i] = ln.Addr().String()
	}
	fmt.Printf("backends %s\n", strings.Join(addrs, ","))
	var c *fasthttp.HostClient
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		switch {
		case len(f) == 2 && f[0] == "proxy":
			c = &fasthttp.HostClient{Addr: f[1], MaxConns: 64,
				Dial: func(a string) (net.Conn, error) { return net.DialTimeout("tcp", a, 5*time.Second) }}
		case len(f) == 4 && f[0] == "run" && c != nil:
			n, _ := strconv.Atoi(f[1])
			conns, _ := strconv.Atoi(f[2])
			fmt.Println(roundTrips(c, n, conns, f[3]))
		default:
			fmt.Printf("error: %q\n", in.Text())
		}
	}
	os.Exit(0) // its backends and client are not stopped: the process ends
}

// roundTrips sends n GETs of path with c on conns connections, one
// request at a time on each, and returns "ok" or the first failure.
func roundTrips(c *fasthttp.HostClient, n, conns int, path string) string {
	var left atomic.Int64
	left.Store(int64(n))
	errs := make(chan string, conns)
	for range conns {
		go func() {
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.SetRequestURI("http://www.example.com" + path)
			req.Header.Set("Accept", "application/json")
			req.Header.Set("User-Agent", "bench")
			for left.Add(-1) >= 0 {
				if err := c.Do(req, resp); err != nil || resp.StatusCode() != 200 {
					left.Store(0)
					errs <- fmt.Sprintf("error %v %d %q", err, resp.StatusCode(), resp.Body())
					return
				}
			}
			errs <- ""
		}()
	}
	answer := "ok"
	for range conns {
		if e := <-errs; e != "" {
			answer = e
		}
	}
	return answer
}

// roundTripPeer is a running peer process.
type roundTripPeer struct {
	backends []string
	in       io.Writer
	out      *bufio.Scanner
}

// startRoundTripPeer starts the peer process; it ends with the benchmark.
func startRoundTripPeer(b *testing.B) *roundTripPeer {
	cmd := exec.Command(os.Args[0], "-test.run=^TestRoundTripPeer$")
	cmd.Env = append(os.Environ(), roundTripPeerEnv+"=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		in.Close()
		if cmd.Wait() != nil {
			_ = cmd.Process.Kill()
		}
	})
	p := &roundTripPeer{in: in, out: bufio.NewScanner(out)}
	if !p.out.Scan() || !strings.HasPrefix(p.out.Text(), "backends ") {
		b.Fatalf("peer: %q", p.out.Text())
	}
	p.backends = strings.Split(strings.TrimPrefix(p.out.Text(), "backends "), ",")
	return p
}

// run has the peer send n requests of path on conns connections and
// waits until they are answered.
func (p *roundTripPeer) run(b *testing.B, n, conns int, path string) {
	fmt.Fprintf(p.in, "run %d %d %s\n", n, conns, path)
	if !p.out.Scan() || p.out.Text() != "ok" {
		b.Fatalf("peer: %q", p.out.Text())
	}
}

// bench has the peer send b.N requests of path on conns connections
// through the proxy at addr, after a warm-up, and reports this process's
// CPU per request.
func (p *roundTripPeer) bench(b *testing.B, addr string, conns int, path string) {
	fmt.Fprintf(p.in, "proxy %s\n", addr)
	p.run(b, 500, conns, path) // warm pools and connections
	user, sys := processCPU()
	b.ResetTimer()
	p.run(b, b.N, conns, path)
	b.StopTimer()
	user2, sys2 := processCPU()
	n := float64(b.N)
	b.ReportMetric(float64(user2-user+sys2-sys)/n, "cpu-ns/op")
	b.ReportMetric(float64(user2-user)/n, "user-ns/op")
}

// processCPU is the CPU time this process has used, in user space and in
// the kernel.
func processCPU() (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// waitHealthy waits until every backend at addrs of pool poolName is
// HEALTHY.
func waitHealthy(b *testing.B, lb *LB, poolName string, addrs []string) {
	deadline := time.Now().Add(15 * time.Second)
	for _, a := range addrs {
		for {
			if st, ok := stateOf(lb, poolName, a); ok && st.State == pool.StateHealthy {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("backend %s never healthy", a)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// bareProxy is the smallest fasthttp round-robin reverse proxy: one
// HostClient per backend, taken in turn, the request and answer passed
// through as they are (no header rewriting, no retries, no health, no
// metrics). It is the reference point of BenchmarkServerRoundTrip.
type bareProxy struct {
	clients []*fasthttp.HostClient
	next    atomic.Uint32
}

func (p *bareProxy) serve(ctx *fasthttp.RequestCtx) {
	c := p.clients[int(p.next.Add(1))%len(p.clients)]
	if err := c.Do(&ctx.Request, &ctx.Response); err != nil {
		ctx.Error(err.Error(), fasthttp.StatusBadGateway)
	}
}

// startBareProxy serves a bareProxy to backends on a loopback port until
// the benchmark ends, and returns its address.
func startBareProxy(b *testing.B, backends []string) string {
	p := &bareProxy{}
	for _, a := range backends {
		c := &fasthttp.HostClient{Addr: a, MaxIdleConnDuration: time.Second,
			Dial: func(a string) (net.Conn, error) { return net.DialTimeout("tcp", a, 2*time.Second) }}
		p.clients = append(p.clients, c)
		b.Cleanup(c.CloseIdleConnections)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s := &fasthttp.Server{Handler: p.serve, MaxIdleWorkerDuration: 50 * time.Millisecond}
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(ln) }()
	b.Cleanup(func() {
		_ = s.Shutdown()
		_ = ln.Close() // a Shutdown before Serve registered ln misses it
		<-done
	})
	return ln.Addr().String()
}
