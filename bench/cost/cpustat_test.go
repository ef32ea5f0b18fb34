package main

import (
	"strings"
	"testing"
)

func TestParseCPUTimes(t *testing.T) {
	const stat = `cpu  100 0 50 1000 5 0 3 0 0 0
cpu0 60 1 30 400 2 4 2 1 9 0
cpu1 40 0 20 600 3 0 1 0 0 0
cpu10 7 0 0 1 0 0 0 0 0 0
intr 12345
`
	tests := []struct {
		cpu         int
		busy, total uint64
		err         string
	}{
		{cpu: 0, busy: 60 + 1 + 30 + 4 + 2 + 1, total: 98 + 400 + 2},
		{cpu: 1, busy: 61, total: 61 + 603},
		{cpu: 10, busy: 7, total: 8},
		{cpu: 2, err: "no line for cpu2"},
	}
	for _, tt := range tests {
		got, err := parseCPUTimes(stat, tt.cpu)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("cpu%d: error %v, want %q", tt.cpu, err, tt.err)
		case tt.err == "" && (err != nil || got.busy != tt.busy || got.total != tt.total):
			t.Errorf("cpu%d: %+v %v, want busy %d total %d", tt.cpu, got, err, tt.busy, tt.total)
		}
	}
	if _, err := parseCPUTimes("cpu0 1 2 3\n", 0); err == nil || !strings.Contains(err.Error(), "short line") {
		t.Errorf("short line: %v", err)
	}
	if p := busyPercent(cpuTimes{busy: 10, total: 100}, cpuTimes{busy: 40, total: 200}); p != 30 {
		t.Errorf("busyPercent = %v, want 30", p)
	}
}
