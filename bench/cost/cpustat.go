package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// cpuTimes are one CPU's counters from /proc/stat, in clock ticks: busy
// (user, nice, system, irq, softirq, steal) and total (busy plus idle and
// iowait). Over a window, their differences say how busy that CPU was,
// whoever kept it busy: what the target did not use of it is other
// processes and interrupts, the noise in the target's figure.
type cpuTimes struct {
	busy, total uint64
}

// readCPUTimes reads CPU cpu's line of /proc/stat.
func readCPUTimes(cpu int) (cpuTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}, err
	}
	return parseCPUTimes(string(b), cpu)
}

// parseCPUTimes finds the "cpuN ..." line of a /proc/stat text and adds
// up its fields. guest and guest_nice are left out: the kernel already
// counts them in user and nice.
func parseCPUTimes(stat string, cpu int) (cpuTimes, error) {
	prefix := "cpu" + strconv.Itoa(cpu) + " "
	for _, line := range strings.Split(stat, "\n") {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		f := strings.Fields(line[len(prefix):])
		if len(f) < 8 {
			return cpuTimes{}, fmt.Errorf("/proc/stat: short line for cpu%d: %q", cpu, line)
		}
		var v [8]uint64
		for i := range v {
			n, err := strconv.ParseUint(f[i], 10, 64)
			if err != nil {
				return cpuTimes{}, fmt.Errorf("/proc/stat: cpu%d field %d: %w", cpu, i+1, err)
			}
			v[i] = n
		}
		// user nice system idle iowait irq softirq steal
		busy := v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
		return cpuTimes{busy: busy, total: busy + v[3] + v[4]}, nil
	}
	return cpuTimes{}, fmt.Errorf("/proc/stat has no line for cpu%d", cpu)
}

// busyPercent is how busy the CPU was between a and b, in percent.
func busyPercent(a, b cpuTimes) float64 {
	if b.total <= a.total {
		return 0
	}
	return 100 * float64(b.busy-a.busy) / float64(b.total-a.total)
}
