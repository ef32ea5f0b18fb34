// Package fleet runs the benchmark's backends as separate processes on
// loopback ports and applies faults to them: signals (kill, terminate,
// stop, continue), restarts on the same port, and run-time fault modes
// through each backend's control endpoint.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lbtrust/lb/bench/backend"
	"github.com/lbtrust/lb/bench/proc"
)

// startTimeout bounds how long a backend may take to report its address.
const startTimeout = 15 * time.Second

// Spec says how to run the backends.
type Spec struct {
	// Command runs one backend: the program and its leading arguments,
	// to which -listen and -name are appended (for example the benchmark
	// binary and "backend"). The process must print
	// backend.ListeningPrefix + address on a line once bound.
	Command []string
	// Args are appended to every backend's command line (knobs such as
	// -latency).
	Args []string
	// Ports are the loopback ports, one per backend; 0 lets the backend
	// pick a free one, which is then kept across restarts.
	Ports []int
	// Log, if not nil, receives every backend's output, each line
	// prefixed with the backend's name. It must be safe for concurrent
	// use.
	Log io.Writer
}

// Fleet is a set of running backends, named b1, b2, ... Safe for
// concurrent use.
type Fleet struct {
	spec   Spec
	client *http.Client

	mu    sync.Mutex
	procs []*proc.Proc // current process of each backend
	addrs []string
}

// Start starts one backend per port and returns when every one is bound.
// On error, those already started are stopped.
func Start(spec Spec) (*Fleet, error) {
	f := &Fleet{
		spec:   spec,
		client: &http.Client{Timeout: 5 * time.Second},
		procs:  make([]*proc.Proc, len(spec.Ports)),
		addrs:  make([]string, len(spec.Ports)),
	}
	for i, port := range spec.Ports {
		p, addr, err := f.launch(i, fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			f.Close()
			return nil, err
		}
		f.procs[i], f.addrs[i] = p, addr
	}
	return f, nil
}

// Len is the number of backends.
func (f *Fleet) Len() int { return len(f.addrs) }

// Name is backend i's name (b1 for i == 0), the tag it puts on answers.
func (f *Fleet) Name(i int) string { return Name(i) }

// Name is the name of the i-th backend (0-based): b1, b2, ...
func Name(i int) string { return fmt.Sprintf("b%d", i+1) }

// Addr is backend i's address (127.0.0.1:port).
func (f *Fleet) Addr(i int) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addrs[i]
}

// Addrs are every backend's address, in order.
func (f *Fleet) Addrs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.addrs...)
}

// Pid is the process id of backend i's current process.
func (f *Fleet) Pid(i int) int { return f.current(i).Pid() }

// Signal sends sig to backend i's current process.
func (f *Fleet) Signal(i int, sig syscall.Signal) error {
	return f.current(i).Signal(sig)
}

// WaitExit waits up to timeout for backend i's current process to exit.
func (f *Fleet) WaitExit(i int, timeout time.Duration) bool {
	return f.current(i).Wait(timeout)
}

// Restart replaces backend i by a new process on the same address. A
// process still running is killed first.
func (f *Fleet) Restart(i int) error {
	f.mu.Lock()
	oldp, addr := f.procs[i], f.addrs[i]
	f.mu.Unlock()
	oldp.Stop(syscall.SIGKILL, time.Second)
	var err error
	// The port is free once the old process is gone; a few tries cover a
	// listener the kernel has not released yet.
	for try := 0; try < 10; try++ {
		var p *proc.Proc
		if p, _, err = f.launch(i, addr); err == nil {
			f.mu.Lock()
			f.procs[i] = p
			f.mu.Unlock()
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return err
}

// SetFault switches backend i into mode m through its control endpoint.
func (f *Fleet) SetFault(ctx context.Context, i int, m backend.Mode) error {
	return backend.SetFault(ctx, f.client, f.Addr(i), m)
}

// Close stops every backend (SIGKILL after a short grace) and waits for
// them.
func (f *Fleet) Close() {
	f.mu.Lock()
	all := append([]*proc.Proc(nil), f.procs...)
	f.mu.Unlock()
	for _, p := range all {
		if p != nil {
			p.Stop(syscall.SIGINT, 2*time.Second)
		}
	}
	f.client.CloseIdleConnections()
}

func (f *Fleet) current(i int) *proc.Proc {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.procs[i]
}

// launch starts backend i on addr and waits for the address it bound.
func (f *Fleet) launch(i int, addr string) (*proc.Proc, string, error) {
	name := Name(i)
	argv := append(append(append([]string(nil), f.spec.Command...), "-listen", addr, "-name", name), f.spec.Args...)
	bound := make(chan string, 1)
	p, err := proc.Start(argv, proc.Options{OnLine: func(line string) {
		if a, ok := strings.CutPrefix(line, backend.ListeningPrefix); ok {
			select {
			case bound <- a:
			default:
			}
			return
		}
		if f.spec.Log != nil {
			fmt.Fprintf(f.spec.Log, "%s: %s\n", name, line)
		}
	}})
	if err != nil {
		return nil, "", err
	}
	t := time.NewTimer(startTimeout)
	defer t.Stop()
	select {
	case a := <-bound:
		return p, a, nil
	case <-p.Done():
		p.Stop(syscall.SIGKILL, 0)
		return nil, "", fmt.Errorf("backend %s on %s exited before listening: %v", name, addr, p.Err())
	case <-t.C:
		p.Stop(syscall.SIGKILL, time.Second)
		return nil, "", errors.New("backend " + name + " did not report its address within " + startTimeout.String())
	}
}
