package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/lbtrust/lb/bench/target"
	"golang.org/x/sys/unix"
)

// CPU affinity, with sched_setaffinity(2) and nothing to install.
//
// Affinity belongs to a thread, and a new thread or process starts with
// the affinity of the thread that created it. So:
//
//   - this process (the load generator) pins every one of its threads to
//     the load CPU first (pinProcess); the threads the Go runtime makes
//     later inherit it, and so do the backends it starts;
//   - the target is started from a thread pinned to the target CPU for
//     the moment of the fork (startOn): the target is on that CPU from its
//     first instruction, and every thread and worker process it makes
//     inherits it, whatever runtime it has (a Go program, a master that
//     forks workers). Pinning a running process from outside would miss
//     the threads it made before, or is making meanwhile;
//   - after a measurement, checkGroup verifies that every thread of every
//     process of the target's group is still on the target CPU alone.

// cpuSet is the set holding cpu alone.
func cpuSet(cpu int) *unix.CPUSet {
	var s unix.CPUSet
	s.Set(cpu)
	return &s
}

// allowedCPUs are the CPUs this process may run on now.
func allowedCPUs() (unix.CPUSet, error) {
	var s unix.CPUSet
	err := unix.SchedGetaffinity(0, &s)
	return s, err
}

// pinProcess sets the affinity of every thread of process pid to cpu
// alone, again until a pass finds none left to move (a thread made during
// a pass is made by a thread already pinned, or is caught by the next).
func pinProcess(pid, cpu int) error {
	want := cpuSet(cpu)
	for pass := 0; pass < 10; pass++ {
		tids, err := threads(pid)
		if err != nil {
			return err
		}
		moved := 0
		for _, tid := range tids {
			var s unix.CPUSet
			if unix.SchedGetaffinity(tid, &s) == nil && s == *want {
				continue
			}
			if err := unix.SchedSetaffinity(tid, want); err != nil && err != unix.ESRCH {
				return fmt.Errorf("pinning thread %d of process %d to CPU %d: %w", tid, pid, cpu, err)
			}
			moved++
		}
		if moved == 0 {
			return nil
		}
	}
	return fmt.Errorf("process %d keeps making threads off CPU %d", pid, cpu)
}

// startOn calls start (which must start a process, synchronously) on an
// OS thread pinned to cpu alone, so that the process and everything it
// makes run there. The thread's own affinity is put back before it is
// released to the Go scheduler.
func startOn(cpu int, start func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var saved unix.CPUSet
	if err := unix.SchedGetaffinity(0, &saved); err != nil {
		return err
	}
	if err := unix.SchedSetaffinity(0, cpuSet(cpu)); err != nil {
		return fmt.Errorf("pinning to CPU %d: %w", cpu, err)
	}
	err := start()
	if rerr := unix.SchedSetaffinity(0, &saved); rerr != nil && err == nil {
		err = fmt.Errorf("restoring this thread's CPU affinity: %w", rerr)
	}
	return err
}

// checkGroup verifies that every thread of every process in process group
// pgid may run on cpu alone, and returns how many threads it looked at.
func checkGroup(pgid, cpu int) (int, error) {
	want := cpuSet(cpu)
	pids, err := target.GroupPids(pgid)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, pid := range pids {
		tids, err := threads(pid)
		if err != nil {
			continue // it exited
		}
		for _, tid := range tids {
			var s unix.CPUSet
			if err := unix.SchedGetaffinity(tid, &s); err != nil {
				continue
			}
			n++
			if s != *want {
				return n, fmt.Errorf("thread %d of process %d may run on %d CPUs, not on CPU %d alone", tid, pid, s.Count(), cpu)
			}
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("no thread found in process group %d", pgid)
	}
	return n, nil
}

// threads are the thread ids of process pid, from /proc/PID/task.
func threads(pid int) ([]int, error) {
	ents, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "task"))
	if err != nil {
		return nil, err
	}
	tids := make([]int, 0, len(ents))
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}
