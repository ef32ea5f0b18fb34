package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lbtrust/lb/internal/sysmon"
)

// TestTheLBKeepsGosSystemMonitorAwake: lb executes itself again at start
// with schedtrace in GODEBUG (package sysmon), in the same process (the
// PID its parent started, which then serves, reloads on SIGHUP and stops
// on SIGTERM), and says so in its start log; LB_SYSMON=go and a GODEBUG
// that sets schedtrace leave the process as started.
func TestTheLBKeepsGosSystemMonitorAwake(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      []string
		mode     sysmon.Mode
		reexec   bool
		godebugs string // GODEBUG in the environment the process runs with
	}{
		{"default", nil, sysmon.Awake, true, sysmon.Schedtrace},
		{"the user's GODEBUG kept", []string{"GODEBUG=madvdontneed=1"}, sysmon.Awake, true, "madvdontneed=1," + sysmon.Schedtrace},
		{"opted out", []string{sysmon.OptOut + "=" + sysmon.OptOutValue}, sysmon.GoDefault, false, ""},
		{"schedtrace set by the user", []string{"GODEBUG=schedtrace=2147483646"}, sysmon.Awake, false, "schedtrace=2147483646"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := freePorts(t, 3)
			adminAddr, lbAddr, b1 := a[0], a[1], a[2]
			startBackend(t, b1, "b1")
			path := filepath.Join(t.TempDir(), "lb.hcl")
			writeFile(t, path, lbConfig(adminAddr, lbAddr, "", "", b1))
			cmd := exec.Command(lbBinary, "-config", path, "-log-format", "json")
			cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
				return strings.HasPrefix(kv, "GODEBUG=") || strings.HasPrefix(kv, sysmon.OptOut+"=")
			}), tc.env...)
			lb := startCmd(t, cmd, []string{tc.name})
			c := client(t, 5*time.Second)
			waitHealthy(t, c, adminAddr, b1)

			raw, err := os.ReadFile("/proc/" + strconv.Itoa(lb.cmd.Process.Pid) + "/environ")
			if err != nil {
				t.Fatal(err)
			}
			env := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
			godebug, _ := envValue(env, "GODEBUG")
			_, marked := envValue(env, "LB_SYSMON_GODEBUG")
			if godebug != tc.godebugs || marked != tc.reexec {
				t.Fatalf("process %d runs with GODEBUG=%q, re-executed %v; want %q, %v", lb.cmd.Process.Pid, godebug, marked, tc.godebugs, tc.reexec)
			}
			if e, ok := lb.findLog(func(e logEntry) bool { return e.str("msg") == "load balancer started" }); !ok || e.str("go_sysmon") != string(tc.mode) {
				t.Fatalf("start log %v; want go_sysmon %q", e, tc.mode)
			}
			if code, _, backend, err := httpGet(c, "http://"+lbAddr+"/"); err != nil || code != 200 || backend != "b1" {
				t.Fatalf("GET through the lb: %d from %q, %v", code, backend, err)
			}
			lb.signal(t, syscall.SIGHUP)
			eventually(t, 10*time.Second, "the reload in the log", func() bool {
				_, ok := lb.findLog(func(e logEntry) bool { return e.str("msg") == "SIGHUP: reloading configuration" })
				return ok
			})
			lb.signal(t, syscall.SIGTERM)
			if code := lb.wait(t, 30*time.Second); code != 0 {
				t.Fatalf("exit code %d after SIGTERM, want 0", code)
			}
		})
	}
}

// envValue is key's value in env (os.Environ's form), and whether it is
// there.
func envValue(env []string, key string) (string, bool) {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v, true
		}
	}
	return "", false
}
