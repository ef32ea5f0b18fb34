// Package target runs and watches the load balancer under test: builds
// the project's lb and generates its configuration, or starts any other
// command; captures its output and recognizes backend state changes in
// it; polls an lb admin listener; measures the process group's CPU time.
package target

import (
	"fmt"
	"io"
	"sync"
	"syscall"
	"time"

	"github.com/lbtrust/lb/bench/proc"
)

// stopGrace is how long the target gets to stop on SIGTERM before it is
// killed.
const stopGrace = 10 * time.Second

// Options configure Start.
type Options struct {
	// Argv is the command to run; empty when the target runs elsewhere
	// (only Addr is used then).
	Argv []string
	// Addr is where the target takes traffic (host:port).
	Addr string
	// Log, if not nil, receives every line of the target's output. It
	// must be safe for concurrent use.
	Log io.Writer
}

// Target is the load balancer under test. Safe for concurrent use.
type Target struct {
	addr string
	p    *proc.Proc // nil when not started by the benchmark

	mu     sync.Mutex
	events []LBEvent
}

// Start runs the target's command, if any.
func Start(o Options) (*Target, error) {
	t := &Target{addr: o.Addr}
	if len(o.Argv) == 0 {
		return t, nil
	}
	p, err := proc.Start(o.Argv, proc.Options{OnLine: func(line string) {
		if o.Log != nil {
			fmt.Fprintln(o.Log, line)
		}
		if e, ok := ParseLogLine(line, time.Now()); ok {
			t.mu.Lock()
			t.events = append(t.events, e)
			t.mu.Unlock()
		}
	}})
	if err != nil {
		return nil, err
	}
	t.p = p
	return t, nil
}

// Addr is where the target takes traffic.
func (t *Target) Addr() string { return t.addr }

// Pid is the target process's id, 0 when the benchmark did not start it.
func (t *Target) Pid() int {
	if t.p == nil {
		return 0
	}
	return t.p.Pid()
}

// Exited reports whether a started target has already exited (always
// false for one the benchmark did not start).
func (t *Target) Exited() bool { return t.p != nil && t.p.Exited() }

// Done is closed when a started target exits; nil (never ready) for one
// the benchmark did not start.
func (t *Target) Done() <-chan struct{} {
	if t.p == nil {
		return nil
	}
	return t.p.Done()
}

// CPU is the CPU time used so far by the target's process group.
func (t *Target) CPU() (time.Duration, error) {
	if t.p == nil {
		return 0, fmt.Errorf("the target was not started by the benchmark")
	}
	return GroupCPU(t.p.Pid())
}

// LogEvents are the backend state changes recognized in the target's
// output so far.
func (t *Target) LogEvents() []LBEvent {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]LBEvent(nil), t.events...)
}

// Signal sends sig to a started target's process (an error for one the
// benchmark did not start).
func (t *Target) Signal(sig syscall.Signal) error {
	if t.p == nil {
		return fmt.Errorf("the target was not started by the benchmark")
	}
	return t.p.Signal(sig)
}

// Kill sends SIGKILL to a started target's whole process group at once
// (Stop still reaps it).
func (t *Target) Kill() {
	if t.p != nil {
		t.p.SignalGroup(syscall.SIGKILL)
	}
}

// Stop ends a started target (SIGTERM to its group, SIGKILL after a
// grace period) and waits for it.
func (t *Target) Stop() {
	if t.p != nil {
		t.p.Stop(syscall.SIGTERM, stopGrace)
	}
}
