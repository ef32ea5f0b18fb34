// Command bench measures how a load balancer handles backend failures
// under load: it starts backends (separate processes on loopback ports),
// the load balancer under test (the project's lb by default, or any
// command), drives open-loop constant-rate load through it with vegeta,
// injects one scenario's fault, and reports every figure.
//
//	go run ./bench [flags]                    run a scenario (see -help)
//	go run ./bench -compare a.json,b.json     two reports side by side
//	go run ./bench backend [flags]            run one benchmark backend
//
// Exit codes: 0 done, 1 the run failed, 2 bad command line.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/lbtrust/lb/bench/backend"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "backend" {
		os.Exit(backend.Main(os.Args[2:], os.Stdout, os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
