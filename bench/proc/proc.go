// Package proc runs the benchmark's child processes (backends, the load
// balancer under test): each in its own process group, killed if the
// benchmark dies, its output handed line by line to a callback, and
// always reaped.
package proc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Options configure Start. The zero value discards the output.
type Options struct {
	// OnLine, if set, is called with every line the process writes to
	// stdout or stderr, from one goroutine per stream.
	OnLine func(line string)
	// Dir is the working directory (default: the current one).
	Dir string
	// Env are variables (KEY=VALUE) set for the process on top of this
	// one's environment; a later entry for the same key wins.
	Env []string
}

// Proc is a started child process. Safe for concurrent use.
type Proc struct {
	argv    []string
	cmd     *exec.Cmd
	done    chan struct{}
	err     error    // set before done is closed
	out     *os.File // read end of the output pipe
	outDone chan struct{}
}

// Start runs argv[0] with argv[1:] in a new process group. The process
// receives SIGKILL if the benchmark's thread that started it dies.
func Start(argv []string, o Options) (*Proc, error) {
	if len(argv) == 0 {
		return nil, errors.New("proc: empty command")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = o.Dir
	if len(o.Env) > 0 {
		cmd.Env = append(os.Environ(), o.Env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	// Both streams share one pipe (lines stay whole: short writes to a
	// pipe are atomic), read by one goroutine that does not hold up Wait.
	cmd.Stdout, cmd.Stderr = pw, pw
	p := &Proc{argv: argv, cmd: cmd, done: make(chan struct{}), out: pr, outDone: make(chan struct{})}
	err = cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		return nil, fmt.Errorf("starting %s: %w", argv[0], err)
	}
	go func() {
		defer close(p.outDone)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			if o.OnLine != nil {
				o.OnLine(sc.Text())
			}
		}
		io.Copy(io.Discard, pr)
	}()
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id (also its process group id).
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Argv is the command line the process was started with.
func (p *Proc) Argv() []string { return p.argv }

// Done is closed once the process has exited and been reaped.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is the process's exit error (nil for exit 0); valid once Done is
// closed.
func (p *Proc) Err() error {
	<-p.done
	return p.err
}

// Signal sends sig to the process alone.
func (p *Proc) Signal(sig syscall.Signal) error {
	if p.Exited() {
		return errors.New("proc: process already exited")
	}
	return p.cmd.Process.Signal(sig)
}

// SignalGroup sends sig to the process's whole group (a shell and what
// it started, a master and its workers).
func (p *Proc) SignalGroup(sig syscall.Signal) error {
	if p.Exited() {
		return errors.New("proc: process already exited")
	}
	return syscall.Kill(-p.Pid(), sig)
}

// Wait waits up to timeout for the process to exit and reports whether it
// did.
func (p *Proc) Wait(timeout time.Duration) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		return true
	case <-t.C:
		return false
	}
}

// Stop ends the process and its group: SIGCONT (a stopped process cannot
// act on anything else) and sig, then SIGKILL to the group if it has not
// exited after grace. It returns once the process is reaped.
func (p *Proc) Stop(sig syscall.Signal, grace time.Duration) {
	if !p.Exited() {
		syscall.Kill(-p.Pid(), syscall.SIGCONT)
		syscall.Kill(-p.Pid(), sig)
		if !p.Wait(grace) {
			syscall.Kill(-p.Pid(), syscall.SIGKILL)
		}
	}
	<-p.done
	// Whatever the leader left behind in its group goes too.
	syscall.Kill(-p.Pid(), syscall.SIGKILL)
	p.closeOutput()
}

// closeOutput waits briefly for the output reader to see the end of the
// pipe, then closes it, in case a process outside the group still holds
// the write end.
func (p *Proc) closeOutput() {
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-p.outDone:
	case <-t.C:
	}
	p.out.Close()
	<-p.outDone
}
