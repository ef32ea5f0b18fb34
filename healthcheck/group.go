package healthcheck

import (
	"context"
	"sync"
	"time"
)

// Group runs many checkers, each on its own phase of its interval (see
// phase.go), and stops them one at a time (a backend removed on reload) or
// all together (shutdown). A running checker owns no goroutine: a timer
// starts each probe in a goroutine of its own that ends with the probe, so
// ten thousand idle checkers hold ten thousand timers and no stacks. HTTP
// probes of a running checker reuse one kept-alive connection (see
// httpSession) and borrow their read buffer from the Group while they read.
// The zero value is ready to use. A Group is safe for concurrent use; it
// must not be copied after first use.
type Group struct {
	mu      sync.Mutex
	stopped bool
	epoch   time.Time                // phases are offsets from it; zero until the first Start
	runs    map[*running]struct{}    // running checkers
	started map[time.Duration]uint64 // checkers ever started per interval: the next phase index
	early   allowance                // first probes allowed at once
	buffers probeBuffers             // read buffers lent to probes
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
	r.arm(first.Sub(now))
	return r.stop
}

// Stop cancels every checker started in g and waits until none of them
// runs. Later Starts run nothing. Stop is idempotent.
func (g *Group) Stop() {
	g.mu.Lock()
	g.stopped = true
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
	if _, ok := g.runs[r]; ok {
		delete(g.runs, r)
		g.early.rate -= rateOf(r.c.spec.Interval)
	}
}

// rateOf is the probes per second of one checker with interval.
func rateOf(interval time.Duration) float64 {
	return float64(time.Second) / float64(interval)
}

// running is one started checker: its timer, its session and its place in
// time.
type running struct {
	g      *Group
	c      *Checker
	p      prober // the session, or the checker's own prober
	end    func() // closes the session; nil when p is stateless
	phase  time.Duration
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	timer   *time.Timer
	firing  bool          // a probe is in progress
	stopped bool          // stop was called
	idle    chan struct{} // closed when a probe in progress at stop ends
}

// newRunning prepares c's run with its session open; nothing is scheduled yet.
func newRunning(g *Group, c *Checker, phase time.Duration) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{g: g, c: c, p: c.prober, phase: phase, ctx: ctx, cancel: cancel, idle: make(chan struct{})}
	if o, ok := c.prober.(opener); ok {
		s := o.open(&g.buffers)
		r.p, r.end = s, s.close
	}
	return r
}

// arm schedules the first probe after d.
func (r *running) arm(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.timer = time.AfterFunc(d, r.fire)
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
	defer r.mu.Unlock()
	r.firing = false
	if r.stopped {
		close(r.idle)
		return
	}
	r.timer.Reset(time.Until(next))
}

// abort cancels the probe in progress, if any: its context ends, and a
// session blocked on its connection is woken.
func (r *running) abort() {
	r.cancel()
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
// abandoned and waited for, and the session is closed. Idempotent.
func (r *running) stop() {
	r.abort()
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return
	}
	r.stopped = true
	r.timer.Stop()
	firing := r.firing
	r.mu.Unlock()
	if firing {
		<-r.idle
	}
	if r.end != nil {
		r.end()
	}
	r.g.forget(r)
}
