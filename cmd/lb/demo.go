package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/demo"
)

// cmdDemo starts a demo backend for every loopback backend address in the
// configuration, then runs the load balancer on it: the quick start.
func cmdDemo(args []string) int {
	var f serveFlags
	fs := flag.NewFlagSet("lb demo", flag.ContinueOnError)
	f.register(fs)
	fs.Lookup("config").DefValue = "examples/lb.hcl"
	fs.Set("config", "examples/lb.hcl")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log, err := newLogger(f.logFormat, f.logLevel)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lb:", err)
		return 2
	}
	defer log.Sync()
	cfg, diags := config.Load(f.config)
	if diags.HasErrors() {
		config.WriteDiagnostics(os.Stderr, diags)
		return 1
	}
	var started []*demo.Backend
	defer func() {
		for _, b := range started {
			b.Close()
		}
	}()
	for _, p := range cfg.Pools {
		for _, bc := range p.Backends {
			host, _, _ := net.SplitHostPort(bc.Address)
			if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				continue
			}
			b, err := demo.Start(bc.Address, p.Name+"/"+bc.Address)
			if err != nil {
				fmt.Fprintf(os.Stderr, "lb demo: backend %s: %v\n", bc.Address, err)
				return 1
			}
			started = append(started, b)
		}
	}
	ready := make(chan struct{})
	go func() {
		select {
		case <-ready:
		case <-time.After(time.Minute):
			return
		}
		fmt.Fprintf(os.Stderr, "\n%d demo backends are up. Try:\n", len(started))
		for _, l := range cfg.Listeners {
			fmt.Fprintf(os.Stderr, "  curl -s http://%s/\n", l.Address)
			fmt.Fprintf(os.Stderr, "  go run ./examples/wsecho -url ws://%s/ws hello   # WebSocket echo\n", l.Address)
		}
		if cfg.Admin != nil {
			fmt.Fprintf(os.Stderr, "  curl -s http://%s/status\n  curl -s http://%s/readyz\n", cfg.Admin.Address, cfg.Admin.Address)
		}
		fmt.Fprintf(os.Stderr, "Ctrl-C stops everything.\n\n")
	}()
	return serve(f, log, ready)
}

// cmdBackend runs one demo backend until SIGINT/SIGTERM. On SIGTERM with
// -drain-delay > 0 it first answers /readyz 503 {"status":"shutting_down"}
// for that long while still serving, then stops: the graceful shutdown a
// load balancer should honour.
func cmdBackend(args []string) int {
	fs := flag.NewFlagSet("lb backend", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:9001", "`address` to listen on")
	name := fs.String("name", "", "tag for answers (default: the address)")
	drainDelay := fs.Duration("drain-delay", 0, "on SIGTERM, announce shutting_down for this long before stopping")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	b, err := demo.Start(*listen, *name)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lb backend:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "lb backend %s listening on %s\n", b.Name(), b.Addr())
	sig := <-sigs
	if sig == syscall.SIGTERM && *drainDelay > 0 {
		b.Drain()
		select {
		case <-time.After(*drainDelay):
		case <-sigs:
		}
	}
	b.Close()
	return 0
}
