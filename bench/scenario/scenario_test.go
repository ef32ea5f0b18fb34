package scenario

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lbtrust/lb/bench/backend"
	"github.com/lbtrust/lb/bench/record"
)

// fakeBackends records what the scenario does, with the time since start.
type fakeBackends struct {
	n     int
	began time.Time
	mu    sync.Mutex
	calls []string
}

func (f *fakeBackends) log(format string, a ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, a...))
}

func (f *fakeBackends) Len() int { return f.n }
func (f *fakeBackends) Signal(i int, sig syscall.Signal) error {
	f.log("signal %d %s", i, sig)
	return nil
}
func (f *fakeBackends) WaitExit(i int, timeout time.Duration) bool {
	time.Sleep(10 * time.Millisecond)
	f.log("exited %d", i)
	return true
}
func (f *fakeBackends) Restart(i int) error { f.log("restart %d", i); return nil }
func (f *fakeBackends) SetFault(ctx context.Context, i int, m backend.Mode) error {
	f.log("mode %d %s", i, m)
	return nil
}

func run(t *testing.T, name string, n int) ([]string, []record.Fault, []record.Event) {
	t.Helper()
	fb := &fakeBackends{n: n}
	plan := Plan{Name: name, Backend: 1, FaultAt: 50 * time.Millisecond, RestoreAt: 150 * time.Millisecond, DrainPeriod: time.Second}
	x := Start(context.Background(), plan, fb, time.Now())
	faults, events, errs := x.Wait()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return fb.calls, faults, events
}

func TestSingleFaults(t *testing.T) {
	for name, want := range map[string]string{
		Kill:   "signal 1 killed; restart 1",
		Hang:   "signal 1 stopped (signal); signal 1 continued",
		Drain:  "signal 1 terminated; exited 1; restart 1",
		Slow:   "mode 1 slow; mode 1 none",
		Errors: "mode 1 errors; mode 1 none",
		Flap:   "mode 1 flap; mode 1 none",
	} {
		calls, faults, events := run(t, name, 3)
		if got := strings.Join(calls, "; "); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
		if len(faults) != 1 {
			t.Fatalf("%s: faults %+v", name, faults)
		}
		f := faults[0]
		if f.Backend != 1 || f.Kind != name || f.At < 50*time.Millisecond || f.RestoredAt < 150*time.Millisecond || f.RestoredAt > 2*time.Second {
			t.Errorf("%s: fault %+v", name, f)
		}
		if name == Drain && f.Exited == 0 {
			t.Errorf("drain: exit not recorded")
		}
		if events[0].Kind != record.EventFault || events[len(events)-1].Kind != record.EventRestore {
			t.Errorf("%s: events %+v", name, events)
		}
	}
}

func TestRolling(t *testing.T) {
	calls, faults, _ := run(t, Rolling, 3)
	want := "signal 0 terminated; exited 0; restart 0; signal 1 terminated; exited 1; restart 1; signal 2 terminated; exited 2; restart 2"
	if got := strings.Join(calls, "; "); got != want {
		t.Errorf("rolling: %s, want %s", got, want)
	}
	if len(faults) != 3 || faults[1].At < faults[0].RestoredAt || faults[2].At < 50*time.Millisecond+2*(100*time.Millisecond/3) {
		t.Errorf("rolling faults %+v", faults)
	}
}

func TestCancelStopsBeforeTheFault(t *testing.T) {
	fb := &fakeBackends{n: 3}
	ctx, cancel := context.WithCancel(context.Background())
	x := Start(ctx, Plan{Name: Kill, FaultAt: time.Hour, RestoreAt: 2 * time.Hour}, fb, time.Now())
	cancel()
	faults, _, _ := x.Wait()
	if len(faults) != 0 || len(fb.calls) != 0 {
		t.Errorf("cancelled scenario acted: %v %v", faults, fb.calls)
	}
}

func TestNames(t *testing.T) {
	for _, n := range []string{Kill, Drain, Hang, Slow, Errors, Flap, Rolling, Throughput, None} {
		if !Valid(n) || !strings.Contains(Help(), n) {
			t.Errorf("%s not valid or not in help", n)
		}
	}
	if Valid("explode") || HasFault(Throughput) || HasFault(None) || !HasFault(Kill) {
		t.Error("Valid/HasFault wrong")
	}
}
