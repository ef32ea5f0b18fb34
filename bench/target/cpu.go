package target

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat:
// 100 on every Linux architecture the Go toolchain targets (the kernel's
// ABI, independent of CONFIG_HZ; getconf CLK_TCK prints it).
const clockTicks = 100

// GroupCPU is the CPU time (user + system) used so far by every live
// process in process group pgid, read from /proc/PID/stat. A process that
// exited is no longer counted; the load balancer's processes live for the
// whole run.
func GroupCPU(pgid int) (time.Duration, error) {
	var ticks uint64
	found := false
	err := eachInGroup(pgid, func(_ int, t uint64) {
		found = true
		ticks += t
	})
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, fmt.Errorf("no process in group %d", pgid)
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// GroupPids are the ids of every live process in process group pgid (a
// master and its workers), from /proc.
func GroupPids(pgid int) ([]int, error) {
	var pids []int
	err := eachInGroup(pgid, func(pid int, _ uint64) { pids = append(pids, pid) })
	return pids, err
}

// eachInGroup calls f with the pid and utime+stime (clock ticks) of every
// live process in process group pgid.
func eachInGroup(pgid int, f func(pid int, ticks uint64)) error {
	paths, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return err
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue // the process exited since the listing
		}
		grp, t, err := parseStat(string(data))
		if err != nil || grp != pgid {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if err != nil {
			continue
		}
		f(pid, t)
	}
	return nil
}

// parseStat returns the process group and utime+stime (in clock ticks) of
// one /proc/PID/stat line. The command name, field 2, may hold blanks and
// parentheses, so fields are counted from the last ')'.
func parseStat(s string) (pgrp int, ticks uint64, err error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("malformed stat line")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state): pgrp is field 5, utime 14, stime 15.
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("short stat line")
	}
	if pgrp, err = strconv.Atoi(f[2]); err != nil {
		return 0, 0, err
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("bad utime/stime")
	}
	return pgrp, u + st, nil
}
