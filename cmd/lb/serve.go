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
	fs.DurationVar(&f.gracePeriod, "grace-period", 0, "override the configuration's admin.grace_period (default 30s): how long in-flight requests may take after a stop signal")
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
	setGCDefault(os.Getenv)
	return serve(f, log, nil)
}

// serve loads the configuration, runs it until SIGINT or SIGTERM,
// reloads it on SIGHUP and reopens the access log files on SIGUSR1
// (also during the shutdown). ready, if not nil, is closed once every
// listener is bound.
//
// Under a service manager ($NOTIFY_SOCKET set, systemd's Type=notify) it
// reports READY=1 once every listener is bound with the first
// configuration applied, RELOADING=1 then READY=1 around each reload,
// by SIGHUP or POST /reload (READY=1 whether the file was applied or
// refused: lb serves either way; STATUS= says which), and STOPPING=1 when
// a stop signal arrives.
func serve(f serveFlags, log *zap.Logger, ready chan<- struct{}) int {
	sd := sdNotifierFromEnv()
	cfg, diags := config.Load(f.config)
	if diags.HasErrors() {
		for _, d := range diags {
			log.Error("invalid configuration", zap.String("diagnostic", d.Error()))
		}
		return 1
	}
	lb, err := server.New(cfg, server.Options{Version: version(), ConfigPath: f.config, Log: log,
		Reloading: func() { sdNotify(sd, log, sdReloading()) },
		Reloaded: func(err error) {
			status := "reloaded " + f.config
			if err != nil {
				status = "reload refused, still serving the previous configuration: " + err.Error()
			}
			sdNotify(sd, log, sdReady, sdStatus(status))
		},
	})
	if err != nil {
		log.Error("cannot build load balancer", zap.Error(err))
		return 1
	}
	// Subscribe before binding so a signal during startup is not lost.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1)
	defer signal.Stop(sigs)

	if err := lb.Start(); err != nil {
		log.Error("cannot start", zap.Error(err))
		return 1
	}
	log.Info("load balancer started", zap.String("version", version()), zap.String("config", f.config),
		zap.Int("pools", len(cfg.Pools)), zap.Int("listeners", len(cfg.Listeners)))
	sdNotify(sd, log, sdReady, sdStatus(fmt.Sprintf("serving %d listener(s), %d pool(s) from %s", len(cfg.Listeners), len(cfg.Pools), f.config)))
	if ready != nil {
		close(ready)
	}

	var sig os.Signal
	for sig = range sigs {
		if sig == syscall.SIGUSR1 {
			log.Info("SIGUSR1: reopening access log files")
			lb.ReopenAccessLogs()
			continue
		}
		if sig != syscall.SIGHUP {
			break
		}
		log.Info("SIGHUP: reloading configuration", zap.String("config", f.config))
		lb.ReloadFile() // logs its outcome and tells the service manager; a bad file changes nothing
	}
	sdNotify(sd, log, sdStopping, sdStatus(fmt.Sprintf("shutting down on %s", sig)))
	return shutdown(lb, sig, sigs, f.gracePeriod, log)
}

// sdNotify sends lines to the service manager; a failure is logged, never
// fatal: the LB serves whether or not systemd heard it.
func sdNotify(sd sdNotifier, log *zap.Logger, lines ...string) {
	if err := sd.notify(lines...); err != nil {
		log.Warn("cannot notify the service manager", zap.Error(err))
	}
}

// shutdown runs the graceful stop: readiness 503 at once, listeners keep
// serving for the shutdown delay, then stop accepting, and in-flight
// requests get the grace period. A second SIGINT/SIGTERM exits at once
// (code 1). graceFlag, when > 0, overrides the configured grace period.
func shutdown(lb *server.LB, sig os.Signal, sigs <-chan os.Signal, graceFlag time.Duration, log *zap.Logger) int {
	delay, grace, derivation := lb.ShutdownTiming()
	if graceFlag > 0 {
		grace = graceFlag
		derivation += "; grace_period from -grace-period flag"
	}
	lb.BeginShutdown()
	log.Info("shutdown 1/4: /readyz now answers 503 shutting_down; listeners still serving",
		zap.Stringer("signal", sig), zap.Duration("shutdown_delay", delay), zap.Duration("grace_period", grace),
		zap.String("timing", derivation), zap.Int64("in_flight", lb.InFlight()))
	if delay > 0 {
		log.Info("shutdown 2/4: serving for shutdown_delay so the tier in front notices", zap.Duration("shutdown_delay", delay))
		if s, interrupted := waitOrSignal(delay, sigs, lb); interrupted {
			log.Warn("second signal: exiting at once", zap.Stringer("signal", s), zap.Int64("in_flight", lb.InFlight()))
			return 1
		}
	} else {
		// Every step has its line, so a log reader never wonders where
		// step 2 went.
		log.Info("shutdown 2/4: shutdown_delay is 0s: not waiting for the tier in front", zap.Duration("shutdown_delay", delay))
	}
	log.Info("shutdown 3/4: listeners stop accepting; waiting for in-flight requests",
		zap.Duration("grace_period", grace), zap.Int64("in_flight", lb.InFlight()))
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- lb.Shutdown(ctx) }()
	for {
		select {
		case err := <-done:
			if errors.Is(err, context.DeadlineExceeded) {
				log.Warn("grace period over: remaining requests were cut", zap.Duration("grace_period", grace))
			}
			log.Info("shutdown 4/4: stopped")
			return 0
		case s := <-sigs:
			if s == syscall.SIGHUP {
				log.Info("SIGHUP ignored: shutting down")
				continue
			}
			if s == syscall.SIGUSR1 {
				lb.ReopenAccessLogs()
				continue
			}
			log.Warn("second signal: exiting at once", zap.Stringer("signal", s), zap.Int64("in_flight", lb.InFlight()))
			return 1
		}
	}
}

// waitOrSignal waits for d, or until SIGINT/SIGTERM arrives (SIGHUP is
// ignored, SIGUSR1 reopens lb's access logs), which it returns with true.
func waitOrSignal(d time.Duration, sigs <-chan os.Signal, lb *server.LB) (os.Signal, bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return nil, false
		case s := <-sigs:
			switch s {
			case syscall.SIGHUP:
			case syscall.SIGUSR1:
				lb.ReopenAccessLogs()
			default:
				return s, true
			}
		}
	}
}
