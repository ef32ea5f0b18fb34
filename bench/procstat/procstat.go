// Package procstat reads, from Linux's /proc, what a process group costs
// at one moment: CPU time, resident memory, threads and open file
// descriptors. Two snapshots taken some time apart give the group's CPU
// share over that time.
package procstat

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lbtrust/lb/internal/procmem"
)

// clockTicks is USER_HZ, the unit of the times in /proc/PID/stat: 100 on
// every Linux architecture the Go toolchain targets (the kernel's ABI,
// whatever CONFIG_HZ is).
const clockTicks = 100

// Snapshot is a process group at one moment, every figure added up over
// its live processes.
type Snapshot struct {
	At    time.Time // when the reading began
	Procs int       // live processes in the group
	// CPU is user + system time of every live process, plus the time of
	// the children each has reaped (cutime + cstime): so a worker that a
	// master replaced on reload and reaped stays counted, with its parent.
	CPU     time.Duration
	RSS     int64 // resident set (VmRSS), bytes
	HWM     int64 // each process's peak resident set (VmHWM), bytes
	Threads int   // kernel threads
	FDs     int   // open file descriptors
	// RunDelay is the time the live threads have spent runnable but
	// waiting for a CPU (the second field of each thread's schedstat):
	// over a window, what other processes on the same CPUs took from the
	// group. Zero when the kernel keeps no schedstats.
	RunDelay time.Duration
}

// Group reads every live process of process group pgid.
func Group(pgid int) (Snapshot, error) {
	s := Snapshot{At: time.Now()}
	paths, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return s, err
	}
	var ticks uint64
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue // exited since the listing
		}
		st, err := parseStat(data)
		if err != nil || st.pgrp != pgid {
			continue
		}
		dir := filepath.Dir(p)
		pid, _ := strconv.Atoi(filepath.Base(dir))
		mem, err := procmem.Read(pid)
		if err != nil {
			continue // a zombie, or exited since
		}
		status, err := os.ReadFile(filepath.Join(dir, "status"))
		if err != nil {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join(dir, "fd"))
		ticks += st.ticks
		s.Procs++
		s.RSS += mem.RSS
		s.HWM += mem.HWM
		s.Threads += threads(status)
		s.FDs += len(fds)
		s.RunDelay += runDelay(dir)
	}
	if s.Procs == 0 {
		return s, fmt.Errorf("procstat: no live process in group %d", pgid)
	}
	s.CPU = time.Duration(ticks) * time.Second / clockTicks
	return s, nil
}

// stat is what Group reads from one /proc/PID/stat line.
type stat struct {
	pgrp  int
	ticks uint64 // utime + stime + cutime + cstime
}

// parseStat reads the process group (field 5) and the four CPU times
// (fields 14 to 17) of a /proc/PID/stat line. The command name, field 2,
// may hold blanks and parentheses, so fields are counted from the last
// ')'.
func parseStat(line []byte) (stat, error) {
	i := bytes.LastIndexByte(line, ')')
	if i < 0 {
		return stat{}, fmt.Errorf("procstat: malformed stat line")
	}
	f := strings.Fields(string(line[i+1:]))
	// f[0] is field 3 (state): pgrp is f[2], utime .. cstime f[11] .. f[14].
	if len(f) < 15 {
		return stat{}, fmt.Errorf("procstat: short stat line")
	}
	pgrp, err := strconv.Atoi(f[2])
	if err != nil {
		return stat{}, fmt.Errorf("procstat: bad pgrp %q", f[2])
	}
	var ticks uint64
	for _, v := range f[11:15] {
		n, err := strconv.ParseInt(v, 10, 64) // cutime and cstime are signed
		if err != nil || n < 0 {
			return stat{}, fmt.Errorf("procstat: bad CPU time %q", v)
		}
		ticks += uint64(n)
	}
	return stat{pgrp: pgrp, ticks: ticks}, nil
}

// threads is the Threads: count of a /proc/PID/status text, 0 if absent.
func threads(status []byte) int {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// runDelay adds up the run-queue wait of every thread of the process in
// /proc/PID dir.
func runDelay(dir string) time.Duration {
	paths, _ := filepath.Glob(filepath.Join(dir, "task", "*", "schedstat"))
	var sum time.Duration
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // the thread exited
		}
		sum += parseSchedstat(b)
	}
	return sum
}

// parseSchedstat is the run-queue wait (the second of three numbers, in
// nanoseconds) of a schedstat line, 0 if it cannot be read.
func parseSchedstat(b []byte) time.Duration {
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	n, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n)
}
