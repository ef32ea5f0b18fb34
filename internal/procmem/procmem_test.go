package procmem

import (
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lbtrust/lb/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }

func TestParseStatus(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Usage
		ok   bool
	}{
		{"Name:\tlb\nVmPeak:\t  900 kB\nVmHWM:\t   2048 kB\nVmRSS:\t   1024 kB\nThreads:\t5\n", Usage{RSS: 1 << 20, HWM: 2 << 20}, true},
		{"Name:\tzombie\nState:\tZ (zombie)\n", Usage{}, false},
		{"VmHWM:\t12 MB\nVmRSS:\t1 kB\n", Usage{}, false},
		{"VmHWM:\tlots kB\nVmRSS:\t1 kB\n", Usage{}, false},
	} {
		got, err := parseStatus([]byte(tc.in))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseStatus(%q) = %+v, %v; want %+v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestReadSelfAndGroup(t *testing.T) {
	u, err := Read(os.Getpid())
	if err != nil || u.RSS <= 0 || u.HWM < u.RSS {
		t.Fatalf("Read(self) = %+v, %v", u, err)
	}
	g, n, err := ReadGroup(syscall.Getpgrp())
	if err != nil || n < 1 || g.RSS < u.RSS/2 {
		t.Errorf("ReadGroup(own group) = %+v, %d processes, %v", g, n, err)
	}
	if _, _, err := ReadGroup(1 << 30); err == nil {
		t.Error("ReadGroup of no group succeeded")
	}
	if groupOf([]byte("42 (a (b) c) S 1 77 77 0")) != 77 || groupOf([]byte("junk")) != -1 {
		t.Error("groupOf misreads a stat line")
	}
}

func TestSampler(t *testing.T) {
	var rss atomic.Int64
	rss.Store(100)
	var fired atomic.Int32
	s := Sample(func() (Usage, error) {
		r := rss.Add(100)
		return Usage{RSS: r, HWM: r}, nil
	}, time.Millisecond, 1000, func(u Usage) {
		if u.RSS <= 1000 {
			t.Errorf("over called at %+v", u)
		}
		fired.Add(1)
	})
	deadline := time.Now().Add(10 * time.Second)
	for len(s.Summary().Points) < 20 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	sum := s.Stop()
	s.Stop()
	if fired.Load() != 1 || !sum.Over || sum.OverAt.RSS != 1100 {
		t.Errorf("over fired %d times, summary over %v at %+v; want once at 1100", fired.Load(), sum.Over, sum.OverAt)
	}
	if len(sum.Points) < 20 || sum.PeakRSS != sum.Points[len(sum.Points)-1].RSS || sum.HWM != sum.PeakRSS {
		t.Errorf("summary %d points, peak %d, hwm %d", len(sum.Points), sum.PeakRSS, sum.HWM)
	}
}
