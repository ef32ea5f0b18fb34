package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/server"
	"go.uber.org/zap"
)

// serveFlags are the flags of the default command.
type serveFlags struct {
	config      string
	logFormat   string
	logLevel    string
	gracePeriod time.Duration
	version     bool
}

func (f *serveFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.config, "config", "lb.hcl", "configuration `file` (HCL)")
	fs.StringVar(&f.logFormat, "log-format", "console", "log format: json or console")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.DurationVar(&f.gracePeriod, "grace-period", 30*time.Second, "on SIGTERM/SIGINT, how long in-flight requests may take to finish")
}

// cmdServe runs the load balancer until SIGINT or SIGTERM.
func cmdServe(args []string) int {
	var f serveFlags
	fs := flag.NewFlagSet("lb", flag.ContinueOnError)
	f.register(fs)
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if f.version {
		fmt.Println("lb", version())
		return 0
	}
	log, err := newLogger(f.logFormat, f.logLevel)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lb:", err)
		return 2
	}
	defer log.Sync()
	return serve(f, log, nil)
}

// serve loads the configuration, runs it, and stops on a signal. ready, if
// not nil, is closed once every listener is bound.
func serve(f serveFlags, log *zap.Logger, ready chan<- struct{}) int {
	cfg, diags := config.Load(f.config)
	if diags.HasErrors() {
		for _, d := range diags {
			log.Error("invalid configuration", zap.String("diagnostic", d.Error()))
		}
		return 1
	}
	lb, err := server.New(cfg, server.Options{Version: version(), Log: log})
	if err != nil {
		log.Error("cannot build load balancer", zap.Error(err))
		return 1
	}
	// Subscribe before binding so a signal during startup is not lost.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	if err := lb.Start(); err != nil {
		log.Error("cannot start", zap.Error(err))
		return 1
	}
	log.Info("load balancer started", zap.String("version", version()), zap.String("config", f.config),
		zap.Int("pools", len(cfg.Pools)), zap.Int("listeners", len(cfg.Listeners)))
	if ready != nil {
		close(ready)
	}

	sig := <-sigs
	log.Info("shutting down: readiness now 503, waiting for in-flight requests",
		zap.Stringer("signal", sig), zap.Duration("grace_period", f.gracePeriod))
	lb.BeginShutdown()
	ctx, cancel := context.WithTimeout(context.Background(), f.gracePeriod)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- lb.Shutdown(ctx) }()
	select {
	case err := <-done:
		if errors.Is(err, context.DeadlineExceeded) {
			log.Warn("grace period over: remaining requests were cut", zap.Duration("grace_period", f.gracePeriod))
		}
		log.Info("stopped")
		return 0
	case sig := <-sigs:
		log.Warn("second signal: exiting at once", zap.Stringer("signal", sig))
		return 1
	}
}
