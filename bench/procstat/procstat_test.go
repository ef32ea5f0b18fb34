package procstat

import (
	"syscall"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    stat
		wantErr bool
	}{
		{"plain", "1234 (lb) S 1 1234 1234 0 -1 4194560 100 0 0 0 7 3 2 1 20 0 8 0 100 0 0", stat{pgrp: 1234, ticks: 13}, false},
		{"name with blanks and parens", "77 (a (b) c) R 1 70 70 0 -1 0 0 0 0 0 10 20 0 0 20 0 1 0 5 0 0", stat{pgrp: 70, ticks: 30}, false},
		{"reaped children", "5 (haproxy) S 1 5 5 0 -1 0 0 0 0 0 1 1 40 60 20 0 1 0 5 0 0", stat{pgrp: 5, ticks: 102}, false},
		{"no paren", "5 haproxy S 1 5 5", stat{}, true},
		{"short", "5 (x) S 1 5 5 0", stat{}, true},
		{"bad number", "5 (x) S 1 5 5 0 -1 0 0 0 0 0 a 1 0 0 20 0 1 0 5 0 0", stat{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.line))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestThreads(t *testing.T) {
	tests := []struct {
		status string
		want   int
	}{
		{"Name:\tlb\nThreads:\t7\nVmRSS:\t 10 kB\n", 7},
		{"Name:\tlb\n", 0},
		{"Threads:\tx\n", 0},
	}
	for _, tt := range tests {
		if got := threads([]byte(tt.status)); got != tt.want {
			t.Errorf("threads(%q) = %d, want %d", tt.status, got, tt.want)
		}
	}
}

func TestParseSchedstat(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"1022792358 940967416 1057\n", 940967416},
		{"5 0 1", 0},
		{"5", 0},
		{"5 x 1", 0},
		{"", 0},
	}
	for _, tt := range tests {
		if got := parseSchedstat([]byte(tt.in)); got != tt.want {
			t.Errorf("parseSchedstat(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestGroupSelf reads the test binary's own group (its process group is
// whatever the go command gave it).
func TestGroupSelf(t *testing.T) {
	s, err := Group(syscall.Getpgrp())
	if err != nil {
		t.Fatal(err)
	}
	if s.Procs < 1 || s.RSS <= 0 || s.Threads < 1 || s.FDs < 1 {
		t.Errorf("implausible snapshot %+v", s)
	}
	if time.Since(s.At) > time.Minute {
		t.Errorf("At = %v", s.At)
	}
	if _, err := Group(1 << 30); err == nil {
		t.Error("Group of a process group that does not exist: no error")
	}
}
