package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lbtrust/lb/bench/proc"
	"golang.org/x/sys/unix"
)

func TestMetricValue(t *testing.T) {
	text := "# HELP go_goroutines x\n# TYPE go_goroutines gauge\ngo_goroutines 10013\ngo_goroutines_total{a=\"b\"} 3\n"
	tests := []struct {
		name string
		want int
	}{
		{"go_goroutines", 10013},
		{"go_threads", -1},
		{"go_goroutines_total", -1}, // labelled: not read
	}
	for _, tt := range tests {
		if got := metricValue(bufio.NewScanner(strings.NewReader(text)), tt.name); got != tt.want {
			t.Errorf("%s = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := func() flags {
		return flags{targets: "lb,haproxy", s: settings{Backends: 10, Checks: checkSettings{Interval: time.Second, Timeout: 500 * time.Millisecond, Rise: 2, Fall: 3},
			Duration: 30 * time.Second, Reload: reloadNone, Rounds: 1}}
	}
	tests := []struct {
		name    string
		edit    func(f *flags)
		wantErr string
	}{
		{"defaults", func(*flags) {}, ""},
		{"reload checks", func(f *flags) { f.s.Reload = reloadChecks }, ""},
		{"no backends", func(f *flags) { f.s.Backends = 0 }, "-backends"},
		{"timeout not below interval", func(f *flags) { f.s.Checks.Timeout = time.Second }, "-timeout"},
		{"odd interval", func(f *flags) { f.s.Checks.Interval = 1005 * time.Millisecond }, "multiple of 10ms"},
		{"window shorter than an interval", func(f *flags) { f.s.Duration = 500 * time.Millisecond }, "-duration"},
		{"unknown reload", func(f *flags) { f.s.Reload = "hup" }, "-reload"},
		{"reload in a short window", func(f *flags) { f.s.Reload = reloadSame; f.s.Duration = 3 * time.Second }, "4 intervals"},
		{"unknown target", func(f *flags) { f.targets = "lb,caddy" }, "caddy"},
		{"no rounds", func(f *flags) { f.s.Rounds = 0 }, "-rounds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ok()
			tt.edit(&f)
			err := f.validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(f.s.Targets) != 2 || f.s.ReadyTimeout != 303*time.Second {
					t.Errorf("targets %v, ready timeout %s", f.s.Targets, f.s.ReadyTimeout)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one naming %q", err, tt.wantErr)
			}
		})
	}
}

func TestMedianAndSummarize(t *testing.T) {
	tests := []struct {
		v    []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		if got := median(tt.v); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.v, got, tt.want)
		}
	}
	runs := []result{
		{CPUPercent: 10, RSS: 1 << 20, Goroutines: -1, Reload: &spread{PeakNominal: 3}},
		{CPUPercent: 30, RSS: 3 << 20, Goroutines: -1, Reload: &spread{PeakNominal: 1}},
		{CPUPercent: 20, RSS: 2 << 20, Goroutines: -1, Reload: &spread{PeakNominal: 2}},
	}
	s := summarize("lb", runs)
	if s.Runs != 3 || s.CPUPercent != 20 || s.RSSMiB != 2 || s.Goroutines != -1 || !s.HasReload || s.ReloadPeak != 2 {
		t.Errorf("summary %+v", s)
	}
}

// TestStartPinned starts a process bound to one CPU and checks that it
// runs there while this process keeps its own CPUs.
func TestStartPinned(t *testing.T) {
	var mine unix.CPUSet
	if err := unix.SchedGetaffinity(0, &mine); err != nil {
		t.Fatal(err)
	}
	cpu := -1
	for c := range 1024 {
		if mine.IsSet(c) {
			cpu = c
		}
	}
	p, err := startPinned([]string{"sleep", "30"}, proc.Options{}, cpu)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(syscall.SIGKILL, time.Second)
	got, err := cpusAllowed(p.Pid())
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(cpu); got != want {
		t.Errorf("child runs on %q, want %q", got, want)
	}
	self, err := cpusAllowed(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if mine.Count() > 1 && self == got {
		t.Errorf("this process was left on CPU %s", self)
	}
}

func TestStallMeter(t *testing.T) {
	m := startStallMeter()
	time.Sleep(5 * stallTick)
	if got := m.finish(); got < 0 || got > time.Minute {
		t.Errorf("worst stall %s", got)
	}
}
