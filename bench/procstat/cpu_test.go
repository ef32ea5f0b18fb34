package procstat

import (
	"testing"
	"time"
)

func TestParseCPU(t *testing.T) {
	stat := "cpu  100 0 50 9000 10 0 5 0 0 0\ncpu0 10 1 20 4000 7 2 3 4 0 0\ncpu1 90 0 30 5000 3 0 2 0 0 0\nintr 1 2 3\n"
	ms := time.Millisecond
	tests := []struct {
		cpu     int
		want    CPUTimes
		wantErr bool
	}{
		{0, CPUTimes{Task: 310 * ms, IRQ: 50 * ms, Steal: 40 * ms}, false},
		{1, CPUTimes{Task: 1200 * ms, IRQ: 20 * ms}, false},
		{2, CPUTimes{}, true},
	}
	for _, tt := range tests {
		got, err := parseCPU([]byte(stat), tt.cpu)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("cpu%d: %+v, %v; want %+v (error %v)", tt.cpu, got, err, tt.want, tt.wantErr)
		}
	}
	if _, err := parseCPU([]byte("cpu0 1 2 3\n"), 0); err == nil {
		t.Error("short line: no error")
	}
	if _, err := parseCPU([]byte("cpu0 1 2 3 4 5 6 x 8\n"), 0); err == nil {
		t.Error("bad number: no error")
	}
	a, err := ReadCPU(0)
	if err != nil {
		t.Fatalf("ReadCPU(0) on this machine: %v", err)
	}
	if d := a.Sub(a); d != (CPUTimes{}) {
		t.Errorf("a.Sub(a) = %+v", d)
	}
}
