package main

import (
	"syscall"
	"testing"
	"time"

	"github.com/lbtrust/lb/bench/proc"
)

// TestStartOnPinsTheChildAndItsThreads starts a shell that starts more
// processes from a thread pinned by startOn, and checks that all of them
// are on that CPU alone while this process is not.
func TestStartOnPinsTheChildAndItsThreads(t *testing.T) {
	allowed, err := allowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	if allowed.Count() < 2 {
		t.Skip("needs two CPUs")
	}
	cpu := -1
	for c := 0; cpu < 0; c++ {
		if allowed.IsSet(c) {
			cpu = c
		}
	}
	var p *proc.Proc
	err = startOn(cpu, func() (err error) {
		p, err = proc.Start([]string{"sh", "-c", "sleep 30 & sleep 30 & wait"}, proc.Options{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(syscall.SIGKILL, time.Second)
	time.Sleep(200 * time.Millisecond) // the shell's children
	n, err := checkGroup(p.Pid(), cpu)
	if err != nil {
		t.Fatal(err)
	}
	if n < 3 {
		t.Errorf("checked %d threads, want the shell and its two children", n)
	}
	if now, err := allowedCPUs(); err != nil || now != allowed {
		t.Errorf("this thread's affinity is %d CPUs after startOn, was %d (%v)", now.Count(), allowed.Count(), err)
	}
}
