package scenario

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/lbtrust/lb/bench/backend"
	"github.com/lbtrust/lb/bench/record"
	"github.com/lbtrust/lb/internal/backoff"
)

// Backends is what a scenario acts on; *fleet.Fleet implements it.
type Backends interface {
	Len() int
	Signal(i int, sig syscall.Signal) error
	WaitExit(i int, timeout time.Duration) bool
	Restart(i int) error
	SetFault(ctx context.Context, i int, m backend.Mode) error
}

// Plan is one scenario with its timing.
type Plan struct {
	Name      string        // the scenario
	Backend   int           // index of the backend to fault (not rolling)
	FaultAt   time.Duration // since the start of the load
	RestoreAt time.Duration // when it is undone
	// DrainPeriod is the backends' drain period; a draining backend that
	// has not exited DrainPeriod + drainSlack after SIGTERM is killed.
	DrainPeriod time.Duration
}

// drainSlack is how long past its drain period a backend may take to
// exit before the scenario kills it.
const drainSlack = 10 * time.Second

// Execution is a scenario being carried out. Safe for concurrent use.
type Execution struct {
	plan  Plan
	b     Backends
	began time.Time

	mu     sync.Mutex
	faults []record.Fault
	events []record.Event
	errs   []error
	done   chan struct{}
}

// Start carries out plan against b in the background; began is time zero
// (the start of the load). Cancelling ctx stops it between steps.
func Start(ctx context.Context, plan Plan, b Backends, began time.Time) *Execution {
	x := &Execution{plan: plan, b: b, began: began, done: make(chan struct{})}
	go func() {
		defer close(x.done)
		switch plan.Name {
		case Kill:
			x.single(ctx, syscall.SIGKILL, syscall.Signal(0))
		case Hang:
			x.single(ctx, syscall.SIGSTOP, syscall.SIGCONT)
		case Drain:
			x.single(ctx, syscall.SIGTERM, syscall.Signal(0))
		case Slow:
			x.mode(ctx, backend.ModeSlow)
		case Errors:
			x.mode(ctx, backend.ModeErrors)
		case Flap:
			x.mode(ctx, backend.ModeFlap)
		case Rolling:
			x.rolling(ctx)
		}
	}()
	return x
}

// Wait waits for the scenario to finish and returns its faults (sorted by
// time), its events and the errors it met.
func (x *Execution) Wait() ([]record.Fault, []record.Event, []error) {
	<-x.done
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.faults, x.events, x.errs
}

// single faults one backend with sig at FaultAt and, at RestoreAt,
// sends restore (SIGCONT) or, when restore is 0, restarts it.
func (x *Execution) single(ctx context.Context, sig, restore syscall.Signal) {
	i := x.plan.Backend
	if !x.sleepUntil(ctx, x.plan.FaultAt) {
		return
	}
	f := record.Fault{Backend: i, Kind: x.plan.Name, At: x.now()}
	if err := x.b.Signal(i, sig); err != nil {
		x.fail(fmt.Errorf("%s backend %d: %w", x.plan.Name, i+1, err))
		return
	}
	x.event(record.EventFault, i, f.At)
	exited := make(chan time.Duration, 1)
	if sig == syscall.SIGTERM {
		go func() {
			if x.b.WaitExit(i, x.plan.RestoreAt-x.plan.FaultAt+x.plan.DrainPeriod+drainSlack) {
				at := x.now()
				x.event(record.EventExit, i, at)
				exited <- at
			}
			close(exited)
		}()
	}
	if !x.sleepUntil(ctx, x.plan.RestoreAt) {
		x.addFault(f)
		return
	}
	if sig == syscall.SIGTERM {
		// Restart only once it is gone: its drain is part of the scenario.
		f.Exited = <-exited
	}
	var err error
	if restore != 0 {
		err = x.b.Signal(i, restore)
	} else {
		err = x.b.Restart(i)
	}
	f.RestoredAt = x.now()
	if err != nil {
		x.fail(fmt.Errorf("restoring backend %d: %w", i+1, err))
	} else {
		x.event(record.EventRestore, i, f.RestoredAt)
	}
	x.addFault(f)
}

// mode switches one backend into m at FaultAt and back at RestoreAt.
func (x *Execution) mode(ctx context.Context, m backend.Mode) {
	i := x.plan.Backend
	if !x.sleepUntil(ctx, x.plan.FaultAt) {
		return
	}
	f := record.Fault{Backend: i, Kind: x.plan.Name, At: x.now()}
	if err := x.b.SetFault(ctx, i, m); err != nil {
		x.fail(err)
		return
	}
	x.event(record.EventFault, i, f.At)
	if x.sleepUntil(ctx, x.plan.RestoreAt) {
		if err := x.b.SetFault(ctx, i, backend.ModeNone); err != nil {
			x.fail(err)
		} else {
			f.RestoredAt = x.now()
			x.event(record.EventRestore, i, f.RestoredAt)
		}
	}
	x.addFault(f)
}

// rolling drains and restarts every backend in turn, the next one
// (RestoreAt-FaultAt)/n after the previous, like a deploy: SIGTERM, wait
// for the process to exit, start the new one at once.
func (x *Execution) rolling(ctx context.Context) {
	n := x.b.Len()
	if n == 0 {
		return
	}
	step := (x.plan.RestoreAt - x.plan.FaultAt) / time.Duration(n)
	for i := 0; i < n; i++ {
		if !x.sleepUntil(ctx, x.plan.FaultAt+time.Duration(i)*step) {
			return
		}
		f := record.Fault{Backend: i, Kind: Rolling, At: x.now()}
		if err := x.b.Signal(i, syscall.SIGTERM); err != nil {
			x.fail(fmt.Errorf("rolling backend %d: %w", i+1, err))
			continue
		}
		x.event(record.EventFault, i, f.At)
		if x.b.WaitExit(i, x.plan.DrainPeriod+drainSlack) {
			f.Exited = x.now()
			x.event(record.EventExit, i, f.Exited)
		}
		if err := x.b.Restart(i); err != nil {
			x.fail(fmt.Errorf("restarting backend %d: %w", i+1, err))
		} else {
			f.RestoredAt = x.now()
			x.event(record.EventRestore, i, f.RestoredAt)
		}
		x.addFault(f)
	}
}

// sleepUntil sleeps until at (since the start of the load); false if ctx
// ended first.
func (x *Execution) sleepUntil(ctx context.Context, at time.Duration) bool {
	return backoff.Sleep(ctx, time.Until(x.began.Add(at)))
}

func (x *Execution) now() time.Duration { return time.Since(x.began) }

func (x *Execution) event(k record.EventKind, i int, at time.Duration) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.events = append(x.events, record.Event{At: at, Kind: k, Backend: i})
}

func (x *Execution) addFault(f record.Fault) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.faults = append(x.faults, f)
}

func (x *Execution) fail(err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.errs = append(x.errs, err)
}
