// Package sysmon keeps Go's system monitor from sleeping deeply, which
// makes a proxy under moderate load cheaper to run.
//
// The Go runtime's system monitor (sysmon) is a thread that polls the
// scheduler. When it finds every P idle it sleeps until the next system
// call wakes it, and a wake-up resets its polling period to 20 µs. A proxy
// at a few thousand requests a second is idle between requests most of
// the time and makes a system call at the start of each one, so sysmon
// wakes about twice per request, polls every 20 µs while the request
// runs, and takes the P away from writes that last longer than one poll,
// moving the work to another thread. Measured on one core at 2,000
// requests a second (README, "Go's system monitor"), keeping it awake
// cuts lb's CPU per request by about 30%.
//
// The runtime skips the deep sleep while GODEBUG's schedtrace is set, and
// backs off to polling every 10 ms as it does under steady load. Go reads
// schedtrace only when a process starts, so Reexec starts the program
// again in the same process (execve(2): same PID, same open descriptors,
// same arguments) with schedtrace set to its largest value, 2^31-1 ms
// (24.8 days): the period of its trace line, printed to standard error at
// start on hosts whose monotonic clock (about the uptime) is past it,
// then once every 24.8 days.
//
// What it costs: about 100 sysmon wake-ups a second at idle instead of
// about 25 (0.3% of a core more on the machine of the README's figures,
// where it saves about 45 µs of CPU per request: a wash below 100
// requests a second), and a P held by a blocking
// system call is handed to another thread after up to about 20 ms
// instead of 20 µs. lb's network I/O never blocks a P; a slow disk under
// the access log could.
//
// LB_SYSMON=go in the environment keeps Go's default (no re-exec); a
// GODEBUG that already sets schedtrace is left as it is.
package sysmon

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// Environment variables Reexec reads and writes.
const (
	// OptOut is the variable that, set to OptOutValue, keeps Go's
	// default system monitor: Reexec then does nothing.
	OptOut = "LB_SYSMON"
	// OptOutValue is OptOut's value that opts out.
	OptOutValue = "go"
	// saved marks the re-executed process and holds the GODEBUG the
	// program was started with: "=" and the value, or "" when unset.
	saved = "LB_SYSMON_GODEBUG"
)

// Mode is how this process's system monitor runs.
type Mode string

// The modes Reexec reports.
const (
	// Awake: schedtrace is set (by Reexec, or by the user's GODEBUG), so
	// sysmon never sleeps deeply.
	Awake Mode = "awake"
	// GoDefault: Go's default, because of the opt-out or because the
	// re-execution failed.
	GoDefault Mode = "go"
)

// Schedtrace is the GODEBUG setting Reexec adds: the largest period the
// runtime accepts, in milliseconds.
const Schedtrace = "schedtrace=2147483647"

// self is the path Reexec executes: the running program's own file, even
// when its path was replaced or removed since it started.
const self = "/proc/self/exe"

// Reexec keeps sysmon out of its deep sleep (see the package doc) by
// executing the program again with Schedtrace added to GODEBUG, and
// reports the mode the process runs in. It returns without executing when the opt-out is set, when GODEBUG
// already sets schedtrace, or in the re-executed process, where it
// restores the environment the program was started with (GODEBUG and the
// marker), so that the processes it starts inherit the user's
// environment. On success it does not return; an error says why the
// program goes on with Go's default. Call it first thing in main, before
// any goroutine or descriptor is started: what the process opened without
// close-on-exec would be inherited twice.
func Reexec() (Mode, error) {
	env, exec, mode := plan(os.Environ())
	if !exec {
		return mode, restore(env)
	}
	err := syscall.Exec(self, os.Args, env)
	return GoDefault, fmt.Errorf("re-executing %s with GODEBUG=%s: %w", self, Schedtrace, err)
}

// plan decides from the environment env (os.Environ's form) whether to
// re-execute. When exec is true, out is the environment to execute with;
// when false, out is what the current environment should be made to hold
// (the marker removed, GODEBUG as first given), or nil for no change,
// and mode is the process's mode.
func plan(env []string) (out []string, exec bool, mode Mode) {
	godebug, hasGodebug := lookup(env, "GODEBUG")
	if orig, ok := lookup(env, saved); ok {
		out = without(env, saved, "GODEBUG")
		if v, set := strings.CutPrefix(orig, "="); set {
			out = append(out, "GODEBUG="+v)
		}
		return out, false, Awake
	}
	if setsSchedtrace(godebug) {
		return nil, false, Awake
	}
	if v, _ := lookup(env, OptOut); v == OptOutValue {
		return nil, false, GoDefault
	}
	mark := ""
	next := Schedtrace
	if hasGodebug {
		mark = "=" + godebug
		if godebug != "" {
			next = godebug + "," + Schedtrace
		}
	}
	out = append(without(env, "GODEBUG", saved), "GODEBUG="+next, saved+"="+mark)
	return out, true, Awake
}

// restore makes the process environment hold env (nil: no change).
func restore(env []string) error {
	if env == nil {
		return nil
	}
	godebug, ok := lookup(env, "GODEBUG")
	if err := os.Unsetenv(saved); err != nil {
		return err
	}
	if !ok {
		return os.Unsetenv("GODEBUG")
	}
	return os.Setenv("GODEBUG", godebug)
}

// setsSchedtrace reports whether a GODEBUG value sets schedtrace.
func setsSchedtrace(godebug string) bool {
	for field := range strings.SplitSeq(godebug, ",") {
		if strings.HasPrefix(field, "schedtrace=") {
			return true
		}
	}
	return false
}

// lookup is the value of key in env, and whether it is there.
func lookup(env []string, key string) (string, bool) {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v, true
		}
	}
	return "", false
}

// without is a copy of env without the given keys.
func without(env []string, keys ...string) []string {
	out := make([]string, 0, len(env))
next:
	for _, kv := range env {
		for _, k := range keys {
			if strings.HasPrefix(kv, k+"=") {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}
