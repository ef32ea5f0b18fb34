// Command idlecost measures what the load balancer costs with no traffic:
// it starts the built lb binary with -pools pools of -backends backends
// each (every backend an in-process fasthttp server answering 200, so
// every health check passes), health checks every -interval, waits until
// every backend is HEALTHY and -warmup more, then reads the lb's CPU time
// (user + system, /proc/PID/stat) over -duration and prints it as a share
// of one core, with its RSS. It is a measurement, not a pass/fail test.
//
//	go run ./bench/idlecost                          # 10 pools × 10 backends, checks every 10s, 60s
//	go run ./bench/idlecost -interval 1h -duration 30s   # the cost without health checks
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/lbtrust/lb/bench/target"
	"github.com/lbtrust/lb/internal/freeport"
	"github.com/lbtrust/lb/internal/procmem"
	"github.com/valyala/fasthttp"
)

func main() {
	pools := flag.Int("pools", 10, "pools")
	backends := flag.Int("backends", 10, "backends per pool (each its own listener)")
	interval := flag.Duration("interval", 10*time.Second, "health check interval")
	duration := flag.Duration("duration", 60*time.Second, "how long CPU time is measured")
	warmup := flag.Duration("warmup", 15*time.Second, "how long to wait after every backend is HEALTHY before measuring")
	lbPath := flag.String("lb", "", "lb binary (default: go build ./cmd/lb into a temporary directory)")
	flag.Parse()
	if err := run(*pools, *backends, *interval, *duration, *warmup, *lbPath); err != nil {
		fmt.Fprintln(os.Stderr, "idlecost:", err)
		os.Exit(1)
	}
}

func run(pools, backends int, interval, duration, warmup time.Duration, lbPath string) error {
	dir, err := os.MkdirTemp("", "idlecost-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if lbPath == "" {
		if lbPath, err = target.BuildLB(dir); err != nil {
			return err
		}
	}
	addrs, stop, err := startBackends(pools * backends)
	if err != nil {
		return err
	}
	defer stop()
	ports, err := freeport.Loopback(2)
	if err != nil {
		return err
	}
	listen, admin := ports[0], ports[1]
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "admin {\n  address = %q\n}\nlistener \"public\" {\n  address = %q\n  pool    = \"p0\"\n}\n", admin, listen)
	for p := 0; p < pools; p++ {
		fmt.Fprintf(&cfg, "pool \"p%d\" {\n  health_check {\n    interval = %q\n    timeout  = %q\n  }\n", p, interval.String(), min(5*time.Second, interval/2).String())
		for _, a := range addrs[p*backends : (p+1)*backends] {
			fmt.Fprintf(&cfg, "  backend %q {}\n", a)
		}
		cfg.WriteString("}\n")
	}
	cfgPath := filepath.Join(dir, "lb.hcl")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		return err
	}
	cmd := exec.Command(lbPath, "-config", cfgPath, "-log-level", "warn")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer func() { cmd.Process.Signal(syscall.SIGTERM); <-exited }()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second+2*interval)
	defer cancel()
	if err := target.WaitHealthy(ctx, admin, addrs, exited); err != nil {
		return fmt.Errorf("waiting for %d backends to be HEALTHY: %w", len(addrs), err)
	}
	fmt.Printf("lb up: %d pools × %d backends, health checks every %s; warming up %s\n", pools, backends, interval, warmup)
	time.Sleep(warmup)
	pid := cmd.Process.Pid
	cpu0, err := target.GroupCPU(pid)
	if err != nil {
		return err
	}
	time.Sleep(duration)
	cpu1, err := target.GroupCPU(pid)
	if err != nil {
		return err
	}
	u, err := procmem.Read(pid)
	if err != nil {
		return err
	}
	used := cpu1 - cpu0
	fmt.Printf("idle CPU %.2f%% of one core over %s (%s of CPU time), RSS %s\n",
		100*used.Seconds()/duration.Seconds(), duration, used, procmem.MiB(u.RSS))
	return nil
}

// startBackends starts n fasthttp servers on loopback that answer 200
// "ok" to everything, and returns their addresses and a func that stops
// them.
func startBackends(n int) ([]string, func(), error) {
	var addrs []string
	var stops []func()
	stop := func() {
		for _, s := range stops {
			s()
		}
	}
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			stop()
			return nil, nil, err
		}
		s := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("ok") }}
		done := make(chan struct{})
		go func() { defer close(done); s.Serve(ln) }()
		stops = append(stops, func() { s.Shutdown(); ln.Close(); <-done })
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs, stop, nil
}
