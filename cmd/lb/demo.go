package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
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
			tlsCfg, err := demoTLS(cfg, p, bc.Address)
			if err != nil {
				fmt.Fprintf(os.Stderr, "lb demo: pool %s: demo backend %s serves plain HTTP, so the LB's TLS to it will fail: %v\n", p.Name, bc.Address, err)
			}
			b, err := demo.StartWith(bc.Address, demo.Options{Name: p.Name + "/" + bc.Address, TLS: tlsCfg, Log: log})
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
			printTry(l)
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
	certFile := fs.String("tls-cert", "", "PEM certificate chain `file`: serve TLS (with -tls-key)")
	keyFile := fs.String("tls-key", "", "PEM private key `file` of -tls-cert")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	o := demo.Options{Name: *name}
	if *certFile != "" || *keyFile != "" {
		pair, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "lb backend: -tls-cert/-tls-key:", err)
			return 2
		}
		o.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, NextProtos: []string{config.ALPNProtocol}, MinVersion: tls.VersionTLS12}
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	b, err := demo.StartWith(*listen, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lb backend:", err)
		return 1
	}
	scheme := "http"
	if o.TLS != nil {
		scheme = "https"
	}
	fmt.Fprintf(os.Stderr, "lb backend %s listening on %s (%s)\n", b.Name(), b.Addr(), scheme)
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

// printTry prints the commands that try listener l once the demo is up.
func printTry(l *config.Listener) {
	switch {
	case l.Redirect != nil:
		fmt.Fprintf(os.Stderr, "  curl -si http://%s/   # 308 to https\n", l.Address)
	case l.TLS != nil:
		host, port, _ := net.SplitHostPort(l.Address)
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			host = "127.0.0.1"
		}
		fmt.Fprintf(os.Stderr, "  curl -sk https://%s/   # -k: or --cacert with the CA of the certificate\n", net.JoinHostPort(host, port))
		for _, c := range l.TLS.Certificates {
			if len(c.ServerNames) > 0 && !strings.HasPrefix(c.ServerNames[0], "*") {
				n := c.ServerNames[0]
				fmt.Fprintf(os.Stderr, "  curl -sk --resolve %s:%s:%s https://%s:%s/   # SNI %s\n", n, port, host, n, port, n)
			}
		}
	default:
		fmt.Fprintf(os.Stderr, "  curl -s http://%s/\n", l.Address)
		fmt.Fprintf(os.Stderr, "  go run ./examples/wsecho -url ws://%s/ws hello   # WebSocket echo\n", l.Address)
	}
}
