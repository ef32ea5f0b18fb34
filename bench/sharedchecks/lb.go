package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lbtrust/lb/bench/proc"
	benchtarget "github.com/lbtrust/lb/bench/target"
	"github.com/lbtrust/lb/internal/freeport"
)

// poolName is the pool every instance shares; fleet.Owners ranks a
// backend by poolName + "/" + address.
const poolName = "web"

// fleetPrefix is the fleet's etcd prefix.
const fleetPrefix = "/lb/fleet/sharedchecks/"

// stopGrace is how long an lb may take to stop after SIGTERM before it
// is killed.
const stopGrace = 10 * time.Second

// lbConfig is what every instance's configuration shares.
type lbConfig struct {
	s        settings
	etcd     string   // etcd client address
	backends []string // addresses
}

// render is member's configuration with its admin and listener
// addresses: pool "web" of every backend, probed on /healthz with Host
// member, sharing its checks through the fleet block.
func (c lbConfig) render(member, admin, listener string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "admin {\n  address = %q\n}\n", admin)
	fmt.Fprintf(&b, "listener \"public\" {\n  address = %q\n  pool    = %q\n}\n", listener, poolName)
	fmt.Fprintf(&b, "pool %q {\n  health_check {\n    path = %q\n    host = %q\n"+
		"    interval = %q\n    timeout = %q\n    healthy_threshold = %d\n    unhealthy_threshold = %d\n  }\n",
		poolName, probePath, member, c.s.Interval.D().String(), c.s.Timeout.D().String(), c.s.Healthy, c.s.Unhealthy)
	for _, a := range c.backends {
		fmt.Fprintf(&b, "  backend %q {}\n", a)
	}
	b.WriteString("}\n")
	fmt.Fprintf(&b, "fleet {\n  member = %q\n  replicas = %d\n  ttl = %q\n  etcd {\n    endpoints = [%q]\n    prefix = %q\n  }\n}\n",
		member, c.s.Replicas, c.s.TTL.D().String(), c.etcd, fleetPrefix)
	return b.String()
}

// lbInstance is one running lb process.
type lbInstance struct {
	member string
	admin  string // admin address, 127.0.0.1:PORT
	proc   *proc.Proc
	out    *lbOutput
}

// startLB writes member's configuration under dir and starts bin with
// it, its output in dir/member.log. It does not wait for it to serve.
func startLB(bin, dir string, c lbConfig, member string) (*lbInstance, error) {
	ports, err := freeport.Loopback(2)
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, member+".hcl")
	if err := os.WriteFile(cfgPath, []byte(c.render(member, ports[0], ports[1])), 0o600); err != nil {
		return nil, err
	}
	out, err := newLBOutput(filepath.Join(dir, member+".log"))
	if err != nil {
		return nil, err
	}
	p, err := proc.Start([]string{bin, "-config", cfgPath, "-log-format", "json", "-log-level", "info", "-grace-period", "1s"},
		proc.Options{OnLine: out.line})
	if err != nil {
		out.close()
		return nil, err
	}
	return &lbInstance{member: member, admin: ports[0], proc: p, out: out}, nil
}

// kill sends SIGKILL and waits until the process is reaped.
func (l *lbInstance) kill() {
	_ = l.proc.Signal(syscall.SIGKILL)
	l.proc.Stop(syscall.SIGKILL, stopGrace)
	l.out.close()
}

// stop stops the process (SIGTERM, then SIGKILL after stopGrace) and
// returns once it is reaped. Stopping a stopped instance does nothing.
func (l *lbInstance) stop() {
	l.proc.Stop(syscall.SIGTERM, stopGrace)
	l.out.close()
}

// buildLB builds cmd/lb (no -race) into dir.
func buildLB(dir string) (string, error) { return benchtarget.BuildLB(dir) }

// lbOutput keeps an lb's output: every line in its log file, and its
// warnings and errors counted by message. Safe for concurrent use.
type lbOutput struct {
	mu       sync.Mutex
	f        *os.File
	last     []string       // the last lines, for an error report
	warnings map[string]int // level warn or error: message → count
}

// lastLines is how many of an lb's last output lines an error shows.
const lastLines = 20

func newLBOutput(path string) (*lbOutput, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &lbOutput{f: f, warnings: map[string]int{}}, nil
}

// line takes one line of output.
func (o *lbOutput) line(s string) {
	var e struct {
		Level string `json:"level"`
		Msg   string `json:"msg"`
	}
	warn := json.Unmarshal([]byte(s), &e) == nil && (e.Level == "warn" || e.Level == "error" || e.Level == "fatal")
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.f != nil {
		fmt.Fprintln(o.f, s)
	}
	if warn {
		o.warnings[e.Level+": "+e.Msg]++
	}
	o.last = append(o.last, s)
	if len(o.last) > lastLines {
		o.last = o.last[len(o.last)-lastLines:]
	}
}

// counts returns a copy of the warnings seen.
func (o *lbOutput) counts() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]int, len(o.warnings))
	for k, v := range o.warnings {
		out[k] = v
	}
	return out
}

// tail is the last lines of output, one per line.
func (o *lbOutput) tail() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(o.last, "\n")
}

// close closes the log file (later lines are still counted).
func (o *lbOutput) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.f != nil {
		o.f.Close()
		o.f = nil
	}
}
