package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/lbtrust/lb/bench/fleet"
	"github.com/lbtrust/lb/bench/report"
	"github.com/lbtrust/lb/bench/target"
	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/internal/freeport"
)

// readConfigFile fills, for -config, what the bench needs from the user's
// lb configuration: where it listens, its admin address, its health-check
// settings, and (unless -backend-ports says otherwise) the loopback
// backend ports of the first listener's default pool.
func readConfigFile(c *report.Config) error {
	cfg, diags := config.Load(c.ConfigFile)
	if diags.HasErrors() {
		var b bytes.Buffer
		config.WriteDiagnostics(&b, diags)
		return fmt.Errorf("-config %s:\n%s", c.ConfigFile, b.String())
	}
	text, err := os.ReadFile(c.ConfigFile)
	if err != nil {
		return err
	}
	c.LBConfig = string(text)
	l := cfg.Listeners[0]
	if c.TargetAddr == "" {
		c.TargetAddr = loopback(l.Address)
	}
	if c.AdminAddr == "" && cfg.Admin != nil {
		c.AdminAddr = loopback(cfg.Admin.Address)
	}
	p := cfg.Pool(l.Pool)
	if p == nil {
		return fmt.Errorf("-config: listener %q has no pool %q", l.Name, l.Pool)
	}
	hc := p.HealthCheck
	c.HCInterval, c.HCTimeout = report.Duration(hc.Interval), report.Duration(hc.Timeout)
	c.HealthyThreshold, c.UnhealthyThreshold = hc.HealthyThreshold, hc.UnhealthyThreshold
	c.Algorithm, c.DeregistrationDelay = p.Algorithm, report.Duration(p.DeregistrationDelay)
	if len(c.BackendPorts) > 0 {
		return nil
	}
	for _, b := range p.Backends {
		host, port, err := net.SplitHostPort(b.Address)
		if err != nil {
			continue
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			continue
		}
		n, _ := strconv.Atoi(port)
		c.BackendPorts = append(c.BackendPorts, n)
	}
	if len(c.BackendPorts) == 0 {
		return fmt.Errorf("-config: pool %q has no loopback backend for the bench to start", p.Name)
	}
	c.Backends = len(c.BackendPorts)
	if c.FaultBackend > c.Backends {
		return fmt.Errorf("-fault-backend %d: the configuration's pool has %d loopback backends", c.FaultBackend, c.Backends)
	}
	return nil
}

// loopback turns a listen address into one to connect to: a wildcard or
// empty host becomes 127.0.0.1.
func loopback(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// targetArgv decides how to run the load balancer under test, building
// and configuring the project's lb when that is the target. It fills the
// config's addresses and LB configuration.
func targetArgv(c *report.Config, work, out string, fl *fleet.Fleet) ([]string, error) {
	switch c.Target {
	case "cmd":
		return target.SplitCommand(c.TargetCmd)
	case "addr":
		return nil, nil
	}
	bin := c.LBBin
	if bin == "" {
		var err error
		if bin, err = target.BuildLB(work); err != nil {
			return nil, err
		}
	}
	if c.Target == "lb-config" {
		return []string{bin, "-config", c.ConfigFile, "-log-format", "json"}, nil
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	c.TargetAddr, c.AdminAddr = ports[0], ports[1]
	hcl := generatedConfig(c, fl.Addrs(), nil).HCL()
	c.LBConfig = hcl
	path := filepath.Join(work, "lb.hcl")
	if err := os.WriteFile(path, []byte(hcl), 0o644); err != nil {
		return nil, err
	}
	if out != "" {
		if err := os.WriteFile(filepath.Join(out, "lb.hcl"), []byte(hcl), 0o644); err != nil {
			return nil, err
		}
	}
	return []string{bin, "-config", path, "-log-format", "json"}, nil
}

// generatedConfig is the lb configuration the bench generates for c,
// over the backends at addrs with their weights (nil: every weight 1).
func generatedConfig(c *report.Config, addrs []string, weights []int) target.LBConfig {
	return target.LBConfig{
		Listen: c.TargetAddr, Admin: c.AdminAddr, Backends: addrs, Weights: weights,
		Algorithm: c.Algorithm,
		Interval:  c.HCInterval.D(), Timeout: c.HCTimeout.D(),
		HealthyThreshold: c.HealthyThreshold, UnhealthyThreshold: c.UnhealthyThreshold,
		DeregistrationDelay: c.DeregistrationDelay.D(),
		GracePeriod:         5 * time.Second,
	}
}

// freePorts returns n distinct 127.0.0.1 addresses that were free a
// moment ago, below the ephemeral range so that a killed backend's port
// is not taken by an outgoing connection before it restarts.
func freePorts(n int) ([]string, error) { return freeport.Loopback(n) }

// backendArgs are the knobs every backend process gets.
func backendArgs(c report.Config) []string {
	return []string{
		"-response-size", strconv.Itoa(c.ResponseSize),
		"-latency", c.Latency.D().String(),
		"-drain-period", c.DrainPeriod.D().String(),
		"-flap-period", c.FlapPeriod.D().String(),
	}
}
