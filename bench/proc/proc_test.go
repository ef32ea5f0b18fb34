package proc

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestOutputLinesAndStop(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	p, err := Start([]string{"sh", "-c", "echo one; echo two >&2; exec sleep 60"}, Options{OnLine: func(l string) {
		mu.Lock()
		lines = append(lines, l)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(lines)
		mu.Unlock()
		if n == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if p.Exited() {
		t.Fatal("exited early")
	}
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	p.Stop(syscall.SIGTERM, 5*time.Second) // a stopped process is continued first
	if d := time.Since(t0); d > 4*time.Second {
		t.Errorf("Stop took %s: the SIGTERM was not delivered", d)
	}
	if !p.Exited() || p.Err() == nil {
		t.Errorf("exited %v err %v, want killed by a signal", p.Exited(), p.Err())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lines) != 2 {
		t.Errorf("lines %q, want one and two", lines)
	}
	if err := p.Signal(syscall.SIGTERM); err == nil {
		t.Error("signalling an exited process succeeded")
	}
}

func TestStopKillsTheGroup(t *testing.T) {
	// The shell ignores SIGTERM and leaves a child behind: SIGKILL to the
	// group after the grace period ends both, and Stop returns.
	p, err := Start([]string{"sh", "-c", "trap '' TERM; sleep 60 & wait"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	t0 := time.Now()
	p.Stop(syscall.SIGTERM, 300*time.Millisecond)
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("Stop took %s", d)
	}
	deadline := time.Now().Add(5 * time.Second)
	for liveInGroup(p.Pid()) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := liveInGroup(p.Pid()); n > 0 {
		t.Errorf("%d processes of the group survived", n)
	}
}

// liveInGroup counts the processes of group pgid that are not zombies
// (an orphan's zombie waits for whoever reaps orphans here).
func liveInGroup(pgid int) int {
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	n := 0
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 2 && f[2] == strconv.Itoa(pgid) && f[0] != "Z" {
			n++
		}
	}
	return n
}

func TestStartErrors(t *testing.T) {
	if _, err := Start(nil, Options{}); err == nil {
		t.Error("empty command accepted")
	}
	if _, err := Start([]string{"/no/such/program"}, Options{}); err == nil {
		t.Error("missing program accepted")
	}
}

func TestEnvIsAddedToTheEnvironment(t *testing.T) {
	got := make(chan string, 4)
	p, err := Start([]string{"sh", "-c", `echo "$PROC_TEST_A $PATH"`}, Options{
		Env:    []string{"PROC_TEST_A=one", "PROC_TEST_A=two"},
		OnLine: func(l string) { got <- l },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(syscall.SIGKILL, time.Second)
	select {
	case l := <-got:
		if want := "two " + os.Getenv("PATH"); l != want {
			t.Errorf("got %q, want %q (the later entry, on top of this environment)", l, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no output")
	}
}
