package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lbtrust/lb/bench/proc"
	benchtarget "github.com/lbtrust/lb/bench/target"
	"github.com/lbtrust/lb/internal/freeport"
)

// lbTarget is the project's lb, with a generated configuration: one
// listener that gets no traffic, an admin listener, one pool of every
// backend with an HTTP health check of GET /readyz.
type lbTarget struct {
	label      string // its name: lb, or lb-base for the build compared with
	bin        string
	gomaxprocs int    // GOMAXPROCS of the lb; 0 leaves it unset
	logLevel   string // its -log-level
	checks     checkSettings

	// The current run's.
	cfg     benchtarget.LBConfig
	cfgPath string
}

func (t *lbTarget) name() string { return t.label }

func (t *lbTarget) available() error {
	if _, err := os.Stat(t.bin); err != nil {
		return fmt.Errorf("lb binary: %w (go build -o lb ./cmd/lb, then -lb ./lb; or leave -lb empty to build it)", err)
	}
	return nil
}

func (t *lbTarget) version() string {
	out, err := exec.Command(t.bin, "-version").CombinedOutput()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func (t *lbTarget) prepare(dir string, backends []string, _ bool) ([]string, []string, error) {
	ports, err := freeport.Loopback(2)
	if err != nil {
		return nil, nil, err
	}
	t.cfg = benchtarget.LBConfig{
		Listen:              ports[0],
		Admin:               ports[1],
		Backends:            backends,
		Interval:            t.checks.Interval,
		Timeout:             t.checks.Timeout,
		HealthyThreshold:    t.checks.Rise,
		UnhealthyThreshold:  t.checks.Fall,
		DeregistrationDelay: 30 * time.Second,
		GracePeriod:         5 * time.Second,
	}
	t.cfgPath = filepath.Join(dir, "lb.hcl")
	if err := os.WriteFile(t.cfgPath, []byte(t.cfg.HCL()), 0o600); err != nil {
		return nil, nil, err
	}
	var env []string
	if t.gomaxprocs > 0 {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(t.gomaxprocs))
	}
	return []string{t.bin, "-config", t.cfgPath, "-log-level", t.logLevel}, env, nil
}

// ready waits until the admin listener's /status shows every backend
// healthy.
func (t *lbTarget) ready(ctx context.Context, p *proc.Proc, backends []string) error {
	return benchtarget.WaitHealthy(ctx, t.cfg.Admin, backends, p.Done())
}

// reload sends SIGHUP, which makes lb reload its file (a diff: with the
// file unchanged, every checker keeps running).
func (t *lbTarget) reload(p *proc.Proc, mode string) error {
	if mode == reloadChecks {
		t.cfg.Timeout += time.Millisecond
		if err := os.WriteFile(t.cfgPath, []byte(t.cfg.HCL()), 0o600); err != nil {
			return err
		}
	}
	return p.Signal(syscall.SIGHUP)
}

// goroutines reads go_goroutines from the admin listener's /metrics.
func (t *lbTarget) goroutines() int {
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	resp, err := c.Get("http://" + t.cfg.Admin + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	return metricValue(bufio.NewScanner(resp.Body), "go_goroutines")
}

// metricValue is the value of the unlabelled sample name in Prometheus
// text, -1 when absent.
func metricValue(sc *bufio.Scanner, name string) int {
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == name {
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return -1
			}
			return int(v)
		}
	}
	return -1
}
