package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/lbtrust/lb/bench/proc"
	"golang.org/x/sys/unix"
)

// pinSelf binds every thread of this process to cpu. Threads created
// later inherit the binding from the thread that creates them, so after
// two passes (a thread created during the first is caught by the second)
// the whole process stays on cpu.
func pinSelf(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	for range 2 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH {
				return fmt.Errorf("binding thread %d to CPU %d: %w", tid, cpu, err)
			}
		}
	}
	return nil
}

// startPinned starts argv (proc.Start: its own process group) bound to
// cpu (no binding when cpu < 0). A child inherits the CPU affinity of the
// thread that forks it, and os/exec forks on the calling goroutine's
// thread, so the goroutine is locked to its thread, the thread bound to
// cpu for the fork and bound back afterwards.
func startPinned(argv []string, o proc.Options, cpu int) (*proc.Proc, error) {
	if cpu < 0 {
		return proc.Start(argv, o)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return nil, err
	}
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("binding to CPU %d: %w", cpu, err)
	}
	p, err := proc.Start(argv, o)
	if rerr := unix.SchedSetaffinity(0, &old); rerr != nil && err == nil {
		// This thread must not stay on the target's CPU.
		p.Stop(unix.SIGKILL, 0)
		return nil, rerr
	}
	return p, err
}

// cpusAllowed is the Cpus_allowed_list of process pid ("0", "0-1", ...).
func cpusAllowed(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "", err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("no Cpus_allowed_list in /proc/%d/status", pid)
}
