package procstat

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// CPUTimes is how one CPU has spent its time since boot, from /proc/stat
// (idle and iowait left out).
type CPUTimes struct {
	// Task is time running processes: user, nice and system. Over a
	// window, that of the CPU a process is bound to, less the process's
	// own CPU time, is what other processes took of it.
	Task time.Duration
	// IRQ is hardware and software interrupt time (irq, softirq): on a
	// loopback benchmark, mostly the network stack's work for the
	// connections of whatever ran on this CPU, charged to no process.
	IRQ time.Duration
	// Steal is time the hypervisor gave to another guest.
	Steal time.Duration
}

// ReadCPU reads CPU cpu's times.
func ReadCPU(cpu int) (CPUTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return CPUTimes{}, err
	}
	return parseCPU(b, cpu)
}

// Sub is the time spent between o and c.
func (c CPUTimes) Sub(o CPUTimes) CPUTimes {
	return CPUTimes{Task: c.Task - o.Task, IRQ: c.IRQ - o.IRQ, Steal: c.Steal - o.Steal}
}

// parseCPU reads the "cpuN" line of a /proc/stat text.
func parseCPU(stat []byte, cpu int) (CPUTimes, error) {
	name := "cpu" + strconv.Itoa(cpu)
	sc := bufio.NewScanner(bytes.NewReader(stat))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != name {
			continue
		}
		// user nice system idle iowait irq softirq steal ...
		if len(f) < 9 {
			return CPUTimes{}, fmt.Errorf("procstat: short %s line in /proc/stat", name)
		}
		var v [9]time.Duration
		for i := 1; i < 9; i++ {
			n, err := strconv.ParseUint(f[i], 10, 64)
			if err != nil {
				return CPUTimes{}, fmt.Errorf("procstat: bad %s line in /proc/stat", name)
			}
			v[i] = time.Duration(n) * time.Second / clockTicks
		}
		return CPUTimes{Task: v[1] + v[2] + v[3], IRQ: v[6] + v[7], Steal: v[8]}, nil
	}
	return CPUTimes{}, fmt.Errorf("procstat: no %s in /proc/stat", name)
}
