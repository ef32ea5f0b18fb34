package healthcheck

import (
	"context"
	"sync"
)

// Group runs many checkers concurrently, one goroutine per checker, and
// stops them one at a time (a backend removed on reload) or all together
// (shutdown). The zero value is ready to use. A Group is safe for
// concurrent use; it must not be copied after first use.
type Group struct {
	mu      sync.Mutex
	ctx     context.Context // parent of every checker's context; nil until the first Start
	cancel  context.CancelFunc
	stopped bool
	wg      sync.WaitGroup
}

// Start runs c.Run in a new goroutine until the returned stop is called or
// the Group is stopped. stop cancels that checker alone and waits until its
// Run has returned; it is idempotent and safe to call after Group.Stop.
// Start on a stopped Group runs nothing and returns a stop that does
// nothing.
func (g *Group) Start(c *Checker) (stop func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return func() {}
	}
	if g.ctx == nil {
		g.ctx, g.cancel = context.WithCancel(context.Background())
	}
	ctx, cancel := context.WithCancel(g.ctx)
	done := make(chan struct{})
	g.wg.Go(func() {
		defer close(done)
		defer cancel()
		c.Run(ctx)
	})
	return func() {
		cancel()
		<-done
	}
}

// Stop cancels every checker started in g and waits until all of their Run
// calls have returned. Later Starts run nothing. Stop is idempotent.
func (g *Group) Stop() {
	g.mu.Lock()
	g.stopped = true
	if g.cancel != nil {
		g.cancel()
	}
	g.mu.Unlock()
	g.wg.Wait()
}
