package healthcheck

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Group runs many checkers, each on its own phase of its interval (see
// phase.go), and stops them one at a time (a backend removed on reload) or
// all together (shutdown). A running checker owns no goroutine and no
// timer: the Group keeps one schedule (a heap of when each checker probes
// next) and one timer for the earliest of them, and starts each due probe
// in a goroutine of its own that ends with the probe; probes are placed on
// a grid of ticks, so a tick's probes share one wakeup. Ten thousand idle
// checkers hold ten thousand schedule entries of 16 bytes, no stacks. HTTP
// probes of a running checker reuse one kept-alive connection (see
// httpSession) and borrow their buffers from the Group while they write
// and read. The zero value is ready to use. A Group is safe for concurrent
// use; it must not be copied after first use.
type Group struct {
	mu      sync.Mutex
	stopped bool
	epoch   time.Time                // phases are offsets from it; zero until the first Start
	runs    map[*running]struct{}    // running checkers
	started map[time.Duration]uint64 // checkers ever started per interval: the next phase index
	early   allowance                // first probes allowed at once
	buffers probeBuffers             // buffers lent to probes
	sched   schedule                 // when each running checker probes next
	timer   *time.Timer              // fires at sched's earliest entry; nil before the first
	armedAt int64                    // when timer fires, in ns since epoch; 0: not armed
}

// Start runs c until the returned stop is called or the Group is stopped:
// its first probe at once if the Group's early-probe allowance permits
// (a few checkers started together), else at its phase slot, within one
// interval; then one probe per interval on that phase. Probes never overlap
// and each result goes to c's Reporter, as for Run. stop cancels that
// checker alone and waits until a probe in progress is abandoned and
// nothing of it runs; it is idempotent and safe to call after Group.Stop.
// Start on a stopped Group runs nothing and returns a stop that does
// nothing.
func (g *Group) Start(c *Checker) (stop func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return func() {}
	}
	now := time.Now()
	if g.runs == nil {
		g.epoch = now
		g.runs = map[*running]struct{}{}
		g.started = map[time.Duration]uint64{}
	}
	interval := c.spec.Interval
	k := g.started[interval]
	g.started[interval] = k + 1
	r := newRunning(g, c, phaseOf(k, interval))
	first := slotAt(g.epoch, r.phase, interval, now)
	if g.early.take(now) {
		first = now
	}
	g.early.rate += rateOf(interval)
	g.runs[r] = struct{}{}
	g.scheduleLocked(r, first)
	return r.stop
}

// schedule has r probe at t, unless r was stopped meanwhile (it is then
// out of g.runs, or on its way out: forget takes its entry out again).
func (g *Group) schedule(r *running, t time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.runs[r]; ok && !g.stopped && r.slot < 0 {
		g.scheduleLocked(r, t)
	}
}

// scheduleLocked has r probe at t; g.mu is held.
func (g *Group) scheduleLocked(r *running, t time.Time) {
	at := max(int64(t.Sub(g.epoch)), 1)
	g.sched.push(entry{at: at, r: r})
	g.armLocked()
}

// armLocked sets the timer for the earliest entry unless it is set for it
// already; g.mu is held.
func (g *Group) armLocked() {
	if len(g.sched) == 0 {
		return
	}
	at := g.sched[0].at
	if g.armedAt != 0 && g.armedAt <= at {
		return
	}
	g.armedAt = at
	d := g.epoch.Add(time.Duration(at)).Sub(time.Now())
	if g.timer == nil {
		g.timer = time.AfterFunc(d, g.tick)
		return
	}
	g.timer.Reset(d)
}

// tick starts every probe that is due, in a goroutine each, and sets the
// timer for the next.
func (g *Group) tick() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armedAt = 0
	if g.stopped {
		return
	}
	now := int64(time.Since(g.epoch))
	for len(g.sched) > 0 && g.sched[0].at <= now {
		r := g.sched.pop().r
		go r.fire()
	}
	g.armLocked()
}

// Stop cancels every checker started in g and waits until none of them
// runs. Later Starts run nothing. Stop is idempotent.
func (g *Group) Stop() {
	g.mu.Lock()
	g.stopped = true
	if g.timer != nil {
		g.timer.Stop()
	}
	for len(g.sched) > 0 {
		g.sched.pop()
	}
	runs := make([]*running, 0, len(g.runs))
	for r := range g.runs {
		runs = append(runs, r)
	}
	g.mu.Unlock()
	for _, r := range runs {
		r.abort() // abandon every probe in progress before waiting on any
	}
	for _, r := range runs {
		r.stop()
	}
}

// forget removes a stopped run from g.
func (g *Group) forget(r *running) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if r.slot >= 0 {
		g.sched.remove(r.slot)
	}
	if _, ok := g.runs[r]; ok {
		delete(g.runs, r)
		g.early.rate -= rateOf(r.c.spec.Interval)
	}
}

// rateOf is the probes per second of one checker with interval.
func rateOf(interval time.Duration) float64 {
	return float64(time.Second) / float64(interval)
}

// running is one started checker: its session and its place in time.
type running struct {
	g     *Group
	c     *Checker
	p     prober  // the session, or the checker's own prober
	s     session // p when the checker has a session (closed on stop), else nil
	phase time.Duration
	slot  int // index in the Group's schedule; -1 when not in it (guarded by Group.mu)
	// ctx is the context of the run's probes, canceled by abort: a
	// context.WithCancel when the prober waits on it, else (a session
	// whose probes take their deadline apart and are woken by interrupt)
	// a runContext, which costs the run no allocation.
	ctx    context.Context
	cancel context.CancelFunc
	quit   runContext

	mu      sync.Mutex
	firing  bool          // a probe is in progress
	stopped bool          // stop was called
	idle    chan struct{} // made by a stop during a probe, closed when the probe ends
}

// newRunning prepares c's run with its session open; nothing is scheduled yet.
func newRunning(g *Group, c *Checker, phase time.Duration) *running {
	r := &running{g: g, c: c, p: c.prober, phase: phase, slot: -1}
	if o, ok := c.prober.(opener); ok {
		r.s = o.open(&g.buffers)
		r.p = r.s
	}
	_, deadlines := r.p.(deadlineProber)
	_, interrupts := r.p.(interrupter)
	if deadlines && interrupts {
		r.ctx = &r.quit // r.cancel stays nil: abort cancels r.quit
	} else {
		r.ctx, r.cancel = context.WithCancel(context.Background())
	}
	return r
}

// fire performs one probe, reports it unless the run was stopped meanwhile,
// and schedules the next on the run's phase.
func (r *running) fire() {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return
	}
	r.firing = true
	r.mu.Unlock()

	res := r.c.probe(r.ctx, r.p)
	if r.ctx.Err() == nil {
		r.c.logResult(res)
		r.c.rep.ObserveCheck(res)
	}
	next := nextSlot(r.g.epoch, r.phase, r.c.spec.Interval, res.At)

	r.mu.Lock()
	r.firing = false
	stopped := r.stopped
	if stopped && r.idle != nil {
		close(r.idle)
	}
	r.mu.Unlock()
	if !stopped {
		r.g.schedule(r, next)
	}
}

// abort cancels the probe in progress, if any: its context ends, and a
// session blocked on its connection is woken.
func (r *running) abort() {
	if r.cancel != nil {
		r.cancel()
	} else {
		r.quit.cancel()
	}
	if i, ok := r.p.(interrupter); ok {
		i.interrupt()
	}
}

// interrupter is a session whose probes wait on I/O that ctx does not
// reach; interrupt wakes them (after the context was canceled).
type interrupter interface {
	interrupt()
}

// stop ends the run: no probe starts after it, a probe in progress is
// abandoned and waited for, and the session is closed. Its entry in the
// Group's schedule stays until due, then is dropped. Idempotent.
func (r *running) stop() {
	r.abort()
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return
	}
	r.stopped = true
	var idle chan struct{}
	if r.firing {
		r.idle = make(chan struct{})
		idle = r.idle
	}
	r.mu.Unlock()
	if idle != nil {
		<-idle
	}
	if r.s != nil {
		r.s.close()
	}
	r.g.forget(r)
}

// runContext is a context canceled by its cancel method, for a run whose
// session neither waits on Done nor derives from it (its probes' waits are
// woken by interrupt): context.WithCancel would cost every run its
// context, children map hook and cancel closure (about 110 bytes, 1.1 MB at
// 10,000 backends). Done works all the same, its channel made on first
// use. Safe for concurrent use.
type runContext struct {
	canceled atomic.Bool
	mu       sync.Mutex
	done     chan struct{} // nil until Done is called
}

// Deadline implements context.Context: none.
func (c *runContext) Deadline() (time.Time, bool) { return time.Time{}, false }

// Done implements context.Context.
func (c *runContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.canceled.Load() {
			close(c.done)
		}
	}
	return c.done
}

// Err implements context.Context: context.Canceled after cancel.
func (c *runContext) Err() error {
	if c.canceled.Load() {
		return context.Canceled
	}
	return nil
}

// Value implements context.Context: none.
func (c *runContext) Value(any) any { return nil }

// cancel cancels c; idempotent.
func (c *runContext) cancel() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.canceled.Swap(true) || c.done == nil {
		return
	}
	close(c.done)
}
