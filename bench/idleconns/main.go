// Command idleconns measures what idle client connections cost the load
// balancer: it starts the built lb binary in front of one in-process
// backend, opens N kept-alive client connections that each send one
// request and then sit idle, checks that another client is still served
// meanwhile, closes them, and reports the LB's RSS (VmRSS), goroutines
// and open connections before, during and after. It is a measurement,
// not a pass/fail test.
//
//	go run ./bench/idleconns -n 10000
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lbtrust/lb/bench/nofile"
	"github.com/lbtrust/lb/internal/freeport"
	"github.com/valyala/fasthttp"
)

func main() {
	n := flag.Int("n", 10000, "idle client connections to open")
	lbPath := flag.String("lb", "", "lb binary (default: go build ./cmd/lb into a temporary directory)")
	flag.Parse()
	if err := run(*n, *lbPath); err != nil {
		fmt.Fprintln(os.Stderr, "idleconns:", err)
		os.Exit(1)
	}
}

func run(n int, lbPath string) error {
	if _, err := nofile.Raise(uint64(n) + 100); err != nil {
		return fmt.Errorf("%d connections: %w", n, err)
	}
	dir, err := os.MkdirTemp("", "idleconns-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if lbPath == "" {
		lbPath = filepath.Join(dir, "lb")
		if out, err := exec.Command("go", "build", "-o", lbPath, "./cmd/lb").CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %v\n%s", err, out)
		}
	}

	beLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	be := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("ok") }}
	go be.Serve(beLn)
	defer be.Shutdown()

	ports, err := freeport.Loopback(2)
	if err != nil {
		return err
	}
	listen, admin := ports[0], ports[1]
	cfg := fmt.Sprintf(`admin { address = %q }
listener "public" {
  address         = %q
  pool            = "web"
  idle_timeout    = "600s"
  max_connections = %d
}
pool "web" {
  backend %q {}
}
`, admin, listen, n+1000, beLn.Addr().String())
	cfgPath := filepath.Join(dir, "lb.hcl")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return err
	}
	cmd := exec.Command(lbPath, "-config", cfgPath, "-log-level", "warn")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	if err := waitReady("http://" + admin + "/readyz"); err != nil {
		return err
	}
	pid := cmd.Process.Pid
	report := func(what string) error {
		rss, err := vmRSS(pid)
		if err != nil {
			return err
		}
		g, conns := scrape("http://" + admin + "/metrics")
		fmt.Printf("%-34s RSS %7.1f MiB  goroutines %6.0f  open client connections %6.0f\n", what, float64(rss)/1024, g, conns)
		return nil
	}
	time.Sleep(time.Second)
	if err := report("before"); err != nil {
		return err
	}

	start := time.Now()
	conns, err := openIdle(listen, n)
	if err != nil {
		return err
	}
	fmt.Printf("opened %d kept-alive connections (one request each) in %s\n", len(conns), time.Since(start).Round(time.Millisecond))
	time.Sleep(2 * time.Second)
	if err := report(fmt.Sprintf("with %d idle connections", len(conns))); err != nil {
		return err
	}
	lat, err := probe(listen, 200)
	if err != nil {
		return fmt.Errorf("another client while %d are idle: %w", len(conns), err)
	}
	fmt.Printf("another client meanwhile: 200 requests on new connections, p50 %s  p99 %s  max %s\n", lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1])

	for _, c := range conns {
		c.Close()
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, open := scrape("http://" + admin + "/metrics")
		if open == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// fasthttp's worker pool ends a worker idle for 10s on its next
	// sweep (every 10s): up to 20s.
	time.Sleep(25 * time.Second)
	return report("after closing them (+25s)")
}

// openIdle opens n connections to addr, sends one GET on each, reads the
// answer and leaves the connection open and idle.
func openIdle(addr string, n int) ([]net.Conn, error) {
	conns := make([]net.Conn, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 200)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			if err := get(c); err != nil {
				c.Close()
				errs <- err
				return
			}
			conns[i] = c
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
		return nil, err
	}
	return conns, nil
}

func get(c net.Conn) error {
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: lb\r\n\r\n"); err != nil {
		return err
	}
	var resp fasthttp.Response
	if err := resp.Read(bufio.NewReader(c)); err != nil {
		return err
	}
	if resp.StatusCode() != 200 {
		return fmt.Errorf("status %d", resp.StatusCode())
	}
	return nil
}

// probe sends k GETs, each on a new connection, and returns their
// latencies, sorted.
func probe(addr string, k int) ([]time.Duration, error) {
	var out []time.Duration
	for range k {
		start := time.Now()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return nil, err
		}
		err = get(c)
		c.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, time.Since(start).Round(10*time.Microsecond))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

func waitReady(url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("lb not ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// vmRSS returns the resident set of pid in KiB.
func vmRSS(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	return strconv.Atoi(string(m[1]))
}

// scrape returns go_goroutines and the sum of lb_client_connections.
func scrape(url string) (goroutines, conns float64) {
	resp, err := http.Get(url)
	if err != nil {
		return -1, -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		switch {
		case f[0] == "go_goroutines":
			goroutines = v
		case strings.HasPrefix(f[0], "lb_client_connections{"):
			conns += v
		}
	}
	return goroutines, conns
}
