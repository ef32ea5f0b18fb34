package main

import (
	"context"
	"time"

	"github.com/lbtrust/lb/bench/proc"
)

// checkSettings are the health check settings every target gets.
type checkSettings struct {
	Interval time.Duration `json:"interval_ns"`
	Timeout  time.Duration `json:"timeout_ns"`
	// Rise and Fall are the passes to become healthy and the failures to
	// become unhealthy (lb's healthy_threshold and unhealthy_threshold).
	Rise int `json:"rise"`
	Fall int `json:"fall"`
}

// Reload modes (-reload).
const (
	reloadNone   = "none"   // no reload
	reloadSame   = "same"   // the reload signal, the file unchanged
	reloadChecks = "checks" // every check's timeout 1 ms longer first, so every checker restarts
)

// target is one load balancer under test. A target is used by one run at
// a time: prepare, then the other methods on the process started from
// what prepare returned.
type target interface {
	// name is the target's name in -targets and in the table.
	name() string
	// available returns an error saying how to install the target when
	// its binary cannot be run.
	available() error
	// version is one line naming the target's build.
	version() string
	// prepare writes the target's configuration for backends into dir
	// and returns the command and the extra environment to run it with.
	// reloadable asks for a process that the reload method can reload.
	prepare(dir string, backends []string, reloadable bool) (argv, env []string, err error)
	// ready waits for what the target itself reports about the backends,
	// beyond their probe counts (nil at once when it reports nothing).
	ready(ctx context.Context, p *proc.Proc, backends []string) error
	// reload rewrites the configuration as mode says and signals p to
	// load it.
	reload(p *proc.Proc, mode string) error
	// goroutines is the target's goroutine count, -1 when it has none or
	// it cannot be read.
	goroutines() int
}
