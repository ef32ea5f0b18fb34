// Package scenario knows the benchmark's scenarios (which fault, on which
// backend, when it is restored) and carries one out against the running
// backends while the load runs.
package scenario

import (
	"fmt"
	"strings"
)

// Scenario names.
const (
	Kill       = "kill"
	Drain      = "drain"
	Hang       = "hang"
	Slow       = "slow"
	Errors     = "errors"
	Flap       = "flap"
	Rolling    = "rolling"
	Throughput = "throughput"
	None       = "none"
	// Chaos is a random schedule of every fault above, overlapping, with
	// reloads and operator drains (bench/chaos).
	Chaos = "chaos"
	// Stream is not a load: concurrent large downloads checked byte for
	// byte, the LB's memory, and an SSE timing probe (bench/transfer).
	Stream = "stream"
)

// descriptions says what each scenario does, in -help order.
func descriptions() []struct{ name, what string } {
	return []struct{ name, what string }{
		{Kill, "SIGKILL one backend at -fault-at, restart it at -restore-at"},
		{Drain, "SIGTERM one backend (readyz 503 shutting_down for -drain-period, then it exits), restart it at -restore-at"},
		{Hang, "SIGSTOP one backend (connections accepted, nothing answered), SIGCONT at -restore-at"},
		{Slow, "one backend answers traffic 50x slower (health stays fast) until -restore-at"},
		{Errors, "one backend answers traffic 500 while its health says ok, until -restore-at"},
		{Flap, "one backend's readyz alternates 503/200 every -flap-period until -restore-at"},
		{Rolling, "drain and restart every backend in turn between -fault-at and -restore-at (a deploy)"},
		{Chaos, "a reproducible random schedule (-seed) of every fault above on -backends (default 6), overlapping, with reloads that remove, add back and reweight backends and operator drains, keeping -min-serving backends untouched; failures tied to faults, /events checked, the lb's RSS, goroutines, fds and CPU every second"},
		{Throughput, "no fault: closed loop at the highest rate -workers reach; reports rps and LB CPU per request"},
		{None, "no fault: constant-rate load only (a baseline)"},
		{Stream, "no fault, no rate: -downloads bodies of -size at once through the target, each checked byte for byte; the target's memory (VmHWM, RSS sampled); then an SSE timing probe through the target and direct"},
	}
}

// Help lists every scenario with what it does, one per line.
func Help() string {
	var b strings.Builder
	for _, d := range descriptions() {
		fmt.Fprintf(&b, "  %-10s %s\n", d.name, d.what)
	}
	return b.String()
}

// Valid reports whether name is a known scenario.
func Valid(name string) bool {
	for _, d := range descriptions() {
		if d.name == name {
			return true
		}
	}
	return false
}

// HasFault reports whether the scenario injects a fault.
// The chaos scenario has many, carried out by bench/chaos.
func HasFault(name string) bool {
	return name != Throughput && name != None && name != Stream && name != Chaos
}
