package chaos

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/lbtrust/lb/bench/backend"
	"github.com/lbtrust/lb/internal/backoff"
)

// Backends is what the faults act on; *fleet.Fleet implements it.
type Backends interface {
	Signal(i int, sig syscall.Signal) error
	WaitExit(i int, timeout time.Duration) bool
	Restart(i int) error
	SetFault(ctx context.Context, i int, m backend.Mode) error
}

// Operator is what reloads and operator drains act on: the lb under
// test. Its methods may be called from several goroutines.
type Operator interface {
	// Reload makes the configuration hold the members with their
	// weights (indexes into the fleet) and tells the lb to read it.
	Reload(members, weights []int) error
	// AdminDrain drains backend i through the admin API, or lifts the
	// drain (undrain).
	AdminDrain(i int, drain bool) error
}

// Done is a step as it was carried out: when it really began and ended
// (since the start of the load), and what went wrong.
type Done struct {
	ID    int           `json:"id"`
	At    time.Duration `json:"at"`
	Until time.Duration `json:"until,omitempty"`
	// Exited is when a drained backend's process exited (drain, rolling).
	Exited time.Duration `json:"exited,omitempty"`
	Err    string        `json:"error,omitempty"`
}

// exitSlack is how long past its drain period a backend may take to exit
// before it is killed.
const exitSlack = 10 * time.Second

// Execution is a schedule being carried out. Safe for concurrent use.
type Execution struct {
	sc    Schedule
	b     Backends
	op    Operator
	began time.Time

	wg   sync.WaitGroup
	mu   sync.Mutex
	done []Done
	// reloadMu keeps reloads in order: one at a time.
	reloadMu sync.Mutex
}

// Start carries out sc in the background; began is time zero (the start
// of the load). Each step runs in its own goroutine from its At to its
// Until; cancelling ctx stops what has not begun and undoes what has (a
// stopped backend is continued, a fault mode switched off, a drain
// lifted).
func Start(ctx context.Context, sc Schedule, b Backends, op Operator, began time.Time) *Execution {
	x := &Execution{sc: sc, b: b, op: op, began: began}
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		for _, s := range sc.Steps {
			if !x.sleepUntil(ctx, s.At) {
				return
			}
			x.wg.Add(1)
			go func() {
				defer x.wg.Done()
				x.record(x.carryOut(ctx, s))
			}()
		}
	}()
	return x
}

// Wait waits for every step to end and returns what was done, by step ID.
func (x *Execution) Wait() []Done {
	x.wg.Wait()
	x.mu.Lock()
	defer x.mu.Unlock()
	out := append([]Done(nil), x.done...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func (x *Execution) record(d Done) {
	x.mu.Lock()
	x.done = append(x.done, d)
	x.mu.Unlock()
}

// carryOut does one step; it returns at its Until (or when undone early).
func (x *Execution) carryOut(ctx context.Context, s Step) Done {
	d := Done{ID: s.ID, At: x.now()}
	fail := func(err error) Done {
		if err != nil && d.Err == "" {
			d.Err = err.Error()
		}
		return d
	}
	i := s.Backend
	// undoCtx is not cancelled with the run: undoing a fault must happen
	// even when the run is stopped early.
	undoCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	switch s.Kind {
	case KindReload:
		x.reloadMu.Lock()
		err := x.op.Reload(s.Members, s.Weights)
		x.reloadMu.Unlock()
		return fail(err)
	case KindAdminDrain:
		if err := x.op.AdminDrain(i, true); err != nil {
			return fail(err)
		}
		x.sleepUntil(ctx, s.Until)
		err := x.op.AdminDrain(i, false)
		d.Until = x.now()
		return fail(err)
	case Kill:
		if err := x.b.Signal(i, syscall.SIGKILL); err != nil {
			return fail(err)
		}
		x.b.WaitExit(i, 5*time.Second)
		x.sleepUntil(ctx, s.Until)
		err := x.b.Restart(i)
		d.Until = x.now()
		return fail(err)
	case Hang:
		if err := x.b.Signal(i, syscall.SIGSTOP); err != nil {
			return fail(err)
		}
		x.sleepUntil(ctx, s.Until)
		err := x.b.Signal(i, syscall.SIGCONT)
		d.Until = x.now()
		return fail(err)
	case Drain, Rolling:
		if err := x.b.Signal(i, syscall.SIGTERM); err != nil {
			return fail(err)
		}
		if x.b.WaitExit(i, x.sc.Params.DrainPeriod+exitSlack) {
			d.Exited = x.now()
		} else {
			fail(fmt.Errorf("b%d did not exit within %s of SIGTERM", i+1, x.sc.Params.DrainPeriod+exitSlack))
		}
		if s.Kind == Drain {
			x.sleepUntil(ctx, s.Until)
		}
		err := x.b.Restart(i) // kills a process that did not exit
		d.Until = x.now()
		return fail(err)
	case Slow, Errors, Flap:
		m := map[string]backend.Mode{Slow: backend.ModeSlow, Errors: backend.ModeErrors, Flap: backend.ModeFlap}[s.Kind]
		if err := x.b.SetFault(undoCtx, i, m); err != nil {
			return fail(err)
		}
		x.sleepUntil(ctx, s.Until)
		err := x.b.SetFault(undoCtx, i, backend.ModeNone)
		d.Until = x.now()
		return fail(err)
	}
	return fail(fmt.Errorf("unknown step kind %q", s.Kind))
}

// sleepUntil sleeps until at (since the start of the load); false if ctx
// ended first.
func (x *Execution) sleepUntil(ctx context.Context, at time.Duration) bool {
	return backoff.Sleep(ctx, time.Until(x.began.Add(at)))
}

func (x *Execution) now() time.Duration { return time.Since(x.began) }
