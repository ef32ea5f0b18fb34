package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lbtrust/lb/internal/freeport"
	"github.com/lbtrust/lb/internal/syncbuf"
)

// lbBinary is the path of the lb binary built once (with -race) for this
// package's tests by TestMain.
var lbBinary string

// lbMeasured is the same lb built without -race, for the tests that bound
// the LB's memory (stream_test.go): the race detector's shadow memory and
// per-goroutine state more than double an idle lb's RSS (about 48 MiB
// against 19 MiB) and grow with every connection, so a bound on a
// race-built process would measure the detector.
var lbMeasured string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lb-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lbBinary = filepath.Join(dir, "lb")
	lbMeasured = filepath.Join(dir, "lb-measured")
	for _, b := range []struct {
		out   string
		flags []string
	}{{lbBinary, []string{"-race"}}, {lbMeasured, nil}} {
		build := exec.Command("go", append(append([]string{"build"}, b.flags...), "-o", b.out, ".")...)
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building lb:", err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	// A race-built process sleeps 1 s before it exits (GORACE
	// atexit_sleep_ms, read at its start): without the sleep, the exit
	// times the tests measure are the ones a user sees, and the suite is
	// faster. Every process the tests start inherits this.
	if gorace := os.Getenv("GORACE"); !strings.Contains(gorace, "atexit_sleep_ms") {
		os.Setenv("GORACE", strings.TrimSpace(gorace+" atexit_sleep_ms=0"))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freePorts returns n distinct loopback addresses that were free a moment
// ago, below the ephemeral range (see freeport.Loopback).
func freePorts(t *testing.T, n int) []string {
	t.Helper()
	out, err := freeport.Loopback(n)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// proc is a process started by a test; it is killed at cleanup if still
// running.
type proc struct {
	cmd  *exec.Cmd
	out  *syncbuf.Buffer
	done chan struct{}
	err  error
}

// start runs the lb binary with args; its output is kept for failure
// messages.
func start(t *testing.T, args ...string) *proc {
	t.Helper()
	return startCmd(t, exec.Command(lbBinary, args...), args)
}

// startCmd runs cmd (which runs the lb binary, directly or through a
// shell that execs it); args label it in failure messages.
func startCmd(t *testing.T, cmd *exec.Cmd, args []string) *proc {
	t.Helper()
	p := &proc{cmd: cmd, out: &syncbuf.Buffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		// The binary is built with -race: a report fails the test even
		// when the process was killed before it could exit with 66.
		if strings.Contains(p.out.String(), "WARNING: DATA RACE") {
			t.Errorf("data race in %v", args)
		}
		if t.Failed() {
			t.Logf("output of %v:\n%s", args, p.out.String())
		}
	})
	return p
}

// signal sends sig and, for SIGKILL, waits until the process is gone.
func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	if sig == syscall.SIGKILL {
		<-p.done
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(within):
		t.Fatalf("process did not exit within %s; output:\n%s", within, p.out.String())
		return -1
	}
}

// eventually polls cond every 20 ms until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true within %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// httpGet does one GET and returns status, body and the X-Backend header.
func httpGet(c *http.Client, url string) (int, string, string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header.Get("X-Backend"), err
}
