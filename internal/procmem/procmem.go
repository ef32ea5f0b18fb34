// Package procmem reads how much memory a process (or a process group)
// holds, from Linux's /proc, and samples it over time: the figures a
// streaming test or benchmark bounds.
package procmem

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Usage is a process's memory, in bytes.
type Usage struct {
	// RSS is the resident set now (VmRSS).
	RSS int64
	// HWM is the peak resident set since the process started (VmHWM),
	// as the kernel counts it: exact, whatever the sampling misses.
	HWM int64
}

// Read returns the memory of process pid.
func Read(pid int) (Usage, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Usage{}, err
	}
	return parseStatus(b)
}

// parseStatus reads VmRSS and VmHWM (kB) from a /proc/PID/status text.
func parseStatus(b []byte) (Usage, error) {
	var u Usage
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			return Usage{}, fmt.Errorf("procmem: malformed %s line %q", key, sc.Text())
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return Usage{}, fmt.Errorf("procmem: malformed %s line %q", key, sc.Text())
		}
		if key == "VmRSS" {
			u.RSS = n << 10
		} else {
			u.HWM = n << 10
		}
		found++
	}
	if found != 2 {
		// A zombie (or a kernel thread) has no Vm lines.
		return Usage{}, fmt.Errorf("procmem: no VmRSS/VmHWM (the process has exited?)")
	}
	return u, nil
}

// ReadGroup returns the memory of every live process in process group
// pgid, added up (HWM is then the sum of each process's own peak, an
// upper bound of the group's peak), and how many processes were counted.
func ReadGroup(pgid int) (Usage, int, error) {
	paths, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return Usage{}, 0, err
	}
	var sum Usage
	n := 0
	for _, p := range paths {
		stat, err := os.ReadFile(p)
		if err != nil || groupOf(stat) != pgid {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		u, err := Read(pid)
		if err != nil {
			continue // exited since the listing
		}
		sum.RSS += u.RSS
		sum.HWM += u.HWM
		n++
	}
	if n == 0 {
		return Usage{}, 0, fmt.Errorf("procmem: no live process in group %d", pgid)
	}
	return sum, n, nil
}

// groupOf is the process group (field 5) of a /proc/PID/stat line, -1 if
// it cannot be read. The command name (field 2) may hold blanks and
// parentheses, so fields are counted from the last ')'.
func groupOf(stat []byte) int {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 3 {
		return -1
	}
	g, err := strconv.Atoi(f[2])
	if err != nil {
		return -1
	}
	return g
}

// Point is one sample: RSS (bytes) At a time since sampling started.
type Point struct {
	At  time.Duration
	RSS int64
}

// Summary is what a Sampler saw.
type Summary struct {
	Points []Point // every sample, in order
	// PeakRSS is the largest sampled RSS; HWM the last HWM read (the
	// kernel's exact peak, 0 if no read succeeded).
	PeakRSS, HWM int64
	// Over is set when a sample passed the limit; OverAt is that sample.
	Over   bool
	OverAt Usage
	Errors int // failed reads (the process had exited, for one)
}

// Sampler reads a process's memory at a fixed interval until Stop. Safe
// for concurrent use.
type Sampler struct {
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}

	mu  sync.Mutex
	sum Summary
}

// Sample starts reading read every interval. When limit > 0 and a
// sample's RSS (or HWM) passes it, over is called once with that sample
// (from the sampling goroutine) and sampling goes on.
func Sample(read func() (Usage, error), interval time.Duration, limit int64, over func(Usage)) *Sampler {
	s := &Sampler{stop: make(chan struct{}), done: make(chan struct{})}
	go s.run(read, interval, limit, over)
	return s
}

func (s *Sampler) run(read func() (Usage, error), interval time.Duration, limit int64, over func(Usage)) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	start := time.Now()
	for {
		u, err := read()
		s.mu.Lock()
		fire := false
		if err != nil {
			s.sum.Errors++
		} else {
			s.sum.Points = append(s.sum.Points, Point{At: time.Since(start), RSS: u.RSS})
			s.sum.PeakRSS = max(s.sum.PeakRSS, u.RSS)
			s.sum.HWM = u.HWM
			if limit > 0 && !s.sum.Over && max(u.RSS, u.HWM) > limit {
				s.sum.Over, s.sum.OverAt, fire = true, u, true
			}
		}
		s.mu.Unlock()
		if fire && over != nil {
			over(u)
		}
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
	}
}

// Summary is what was seen so far.
func (s *Sampler) Summary() Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.sum
	out.Points = append([]Point(nil), s.sum.Points...)
	return out
}

// Stop ends the sampling (after one last sample in progress) and returns
// the summary. It may be called more than once.
func (s *Sampler) Stop() Summary {
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.done
	return s.Summary()
}

// MiB renders a byte count in MiB with one decimal ("63.2 MiB").
func MiB(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
