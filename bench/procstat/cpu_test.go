package procstat

import (
	"testing"
	"time"
)

func TestParseCPUBusy(t *testing.T) {
	stat := "cpu  100 0 50 9000 10 0 5 0 0 0\ncpu0 10 1 20 4000 7 2 3 4 0 0\ncpu1 90 0 30 5000 3 0 2 0 0 0\nintr 1 2 3\n"
	tests := []struct {
		cpu     int
		want    time.Duration
		wantErr bool
	}{
		{0, 400 * time.Millisecond, false}, // 10+1+20+2+3+4 ticks
		{1, 1220 * time.Millisecond, false},
		{2, 0, true},
	}
	for _, tt := range tests {
		got, err := parseCPUBusy([]byte(stat), tt.cpu)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("cpu%d: %v, %v; want %v (error %v)", tt.cpu, got, err, tt.want, tt.wantErr)
		}
	}
	if _, err := parseCPUBusy([]byte("cpu0 1 2 3\n"), 0); err == nil {
		t.Error("short line: no error")
	}
	if _, err := CPUBusy(0); err != nil {
		t.Errorf("CPUBusy(0) on this machine: %v", err)
	}
}
