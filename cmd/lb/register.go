package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/lbtrust/lb/register"
)

// cmdRegister runs the registration sidecar: it keeps one backend's key in
// etcd under a lease while the backend is ready, and deletes it on
// SIGTERM or SIGINT (exit 0). It exits on its own only for a bad command
// line (2).
func cmdRegister(args []string) int {
	fs := flag.NewFlagSet("lb register", flag.ContinueOnError)
	endpoints := fs.String("etcd", "", "etcd `endpoints`, comma-separated host:port or URLs (required)")
	prefix := fs.String("prefix", "", "the pool's key `prefix`, as in its discovery \"etcd\" block (required)")
	address := fs.String("address", "", "the backend's `IP:port`, as the load balancers reach it (required)")
	weight := fs.Int("weight", register.DefaultWeight, "the backend's weight, at least 1")
	ttl := fs.Duration("ttl", register.DefaultTTL, "lease time to live, whole seconds, at least 2s: how long the key outlives a killed sidecar")
	check := fs.String("check", "", "the backend's own readiness `URL`; a GET must answer 2xx (default: none, always registered)")
	interval := fs.Duration("check-interval", 0, "time between readiness checks (default ttl/3)")
	unanswered := fs.Int("check-unanswered", register.DefaultUnanswered, "checks in a row that may get no answer (timeout, reset) before the key is deleted; a failing status or a refused connection deletes it at once")
	logFormat := fs.String("log-format", "console", "log format: json or console")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "lb register: unexpected arguments %q\n", fs.Args())
		return 2
	}
	var eps []string
	for _, e := range strings.Split(*endpoints, ",") {
		if e = strings.TrimSpace(e); e != "" {
			eps = append(eps, e)
		}
	}
	cfg := register.Config{
		Endpoints:     eps,
		Prefix:        *prefix,
		Address:       *address,
		Weight:        *weight,
		TTL:           *ttl,
		Check:         *check,
		CheckInterval: *interval,
		Unanswered:    *unanswered,
	}
	var problems []string
	if *weight < 1 {
		// Refused here: Config would take 0 for the default.
		problems = append(problems, fmt.Sprintf("-weight %d: must be at least 1", *weight))
		cfg.Weight = register.DefaultWeight
	}
	if *unanswered < 1 {
		problems = append(problems, fmt.Sprintf("-check-unanswered %d: must be at least 1", *unanswered))
		cfg.Unanswered = register.DefaultUnanswered
	}
	log, err := newLogger(*logFormat, *logLevel)
	if err != nil {
		problems = append(problems, err.Error())
	}
	r, err := register.New(cfg, log)
	if err != nil {
		problems = append(problems, strings.Split(err.Error(), "\n")...)
	}
	if len(problems) > 0 {
		fmt.Fprintf(os.Stderr, "lb register: %s\n", strings.Join(problems, "; "))
		return 2
	}
	defer log.Sync()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	r.Run(ctx)
	return 0
}
