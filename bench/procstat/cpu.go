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

// CPUBusy is the time CPU cpu has spent busy since boot (user, nice,
// system, irq, softirq and steal time from /proc/stat; not idle or
// iowait). Over a window, the busy time of a CPU a process is bound to,
// less that process's own CPU time, is what everything else took of it.
func CPUBusy(cpu int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return parseCPUBusy(b, cpu)
}

// parseCPUBusy reads the "cpuN" line of a /proc/stat text.
func parseCPUBusy(stat []byte, cpu int) (time.Duration, error) {
	name := "cpu" + strconv.Itoa(cpu)
	sc := bufio.NewScanner(bytes.NewReader(stat))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != name {
			continue
		}
		// user nice system idle iowait irq softirq steal ...
		if len(f) < 9 {
			return 0, fmt.Errorf("procstat: short %s line in /proc/stat", name)
		}
		var ticks uint64
		for _, i := range []int{1, 2, 3, 6, 7, 8} {
			n, err := strconv.ParseUint(f[i], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("procstat: bad %s line in /proc/stat", name)
			}
			ticks += n
		}
		return time.Duration(ticks) * time.Second / clockTicks, nil
	}
	return 0, fmt.Errorf("procstat: no %s in /proc/stat", name)
}
