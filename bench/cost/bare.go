package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// bareConfig is a bare-cost.conf: where the bare proxy listens and the
// backends it takes in turn.
type bareConfig struct {
	listen   string
	backends []string
}

// parseBareConfig reads "listen ADDR" and "backend ADDR" lines; blank
// lines and lines starting with # are skipped.
func parseBareConfig(r io.Reader) (bareConfig, error) {
	var c bareConfig
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) != 2 {
			return c, fmt.Errorf("line %d: want \"listen ADDR\" or \"backend ADDR\", got %q", n, sc.Text())
		}
		switch f[0] {
		case "listen":
			c.listen = f[1]
		case "backend":
			c.backends = append(c.backends, f[1])
		default:
			return c, fmt.Errorf("line %d: unknown directive %q", n, f[0])
		}
	}
	if err := sc.Err(); err != nil {
		return c, err
	}
	if c.listen == "" || len(c.backends) == 0 {
		return c, errors.New("need a listen line and at least one backend line")
	}
	return c, nil
}

// bareProxy is the smallest fasthttp round-robin reverse proxy: one
// HostClient per backend, taken in turn, request and answer passed as
// they are. server's BenchmarkServerRoundTrip measures the same proxy in
// process.
type bareProxy struct {
	clients []*fasthttp.HostClient
	next    atomic.Uint32
}

// serve forwards one request.
func (p *bareProxy) serve(ctx *fasthttp.RequestCtx) {
	c := p.clients[int(p.next.Add(1))%len(p.clients)]
	if err := c.Do(&ctx.Request, &ctx.Response); err != nil {
		ctx.Error(err.Error(), fasthttp.StatusBadGateway)
	}
}

// bareMain is `cost bare -config FILE`: run the bare proxy until SIGTERM
// or SIGINT.
func bareMain(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("cost bare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "bare-cost.conf to run")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	f, err := os.Open(*path)
	if err != nil {
		fmt.Fprintln(stderr, "bare:", err)
		return 2
	}
	cfg, err := parseBareConfig(f)
	f.Close()
	if err != nil {
		fmt.Fprintf(stderr, "bare: %s: %v\n", *path, err)
		return 2
	}
	p := &bareProxy{}
	for _, a := range cfg.backends {
		p.clients = append(p.clients, &fasthttp.HostClient{Addr: a, MaxIdleConnDuration: 10 * time.Second})
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		fmt.Fprintln(stderr, "bare:", err)
		return 1
	}
	s := &fasthttp.Server{Handler: p.serve}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		_ = s.Shutdown()
	}()
	if err := s.Serve(ln); err != nil {
		fmt.Fprintln(stderr, "bare:", err)
		return 1
	}
	return 0
}
