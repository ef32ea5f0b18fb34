package server

import (
	"github.com/lbtrust/lb/pool"
	"go.uber.org/zap"
)

// onTransition acts on the connections and checker of a backend whose
// state changed. It is every pool's OnTransition hook: it runs outside the
// pool's lock, one transition at a time in the pool's order, on whichever
// goroutine delivers them (a checker's, the request path's, a drain
// timer's, or a Reload's with LB.mu held), so it takes no LB lock and
// never waits for a checker.
func (lb *LB) onTransition(t pool.Transition) {
	lb.recordTransition(t)
	lb.metrics.Transition(t)
	v, ok := lb.runtimes.Load(t.Target)
	if !ok {
		return
	}
	br := v.(*backendRuntime)
	client := clientOf(t.Target)
	if client == nil {
		return
	}
	switch {
	case t.Removed:
		// The pool forgot it: stop probing (elsewhere: this may be the
		// checker's own goroutine), close what is left, free a retired
		// pool it was the last of. After shutdown has stopped the
		// checkers the reaper runs nothing.
		lb.runtimes.Delete(t.Target)
		lb.reaper.Go(func() { lb.reap(br) })
		client.CloseAll()
	case t.Reason == pool.ReasonDeregistrationTimeout:
		n := client.CloseAll()
		lb.log.Warn("deregistration delay over: in-flight requests cancelled",
			zap.String("pool", t.Pool), zap.String("backend", t.Backend),
			zap.Int64("requests", t.InFlight), zap.Int("connections_closed", n))
	case t.Target.Rescuable():
		lb.rescue(t, client)
	case t.To == pool.StateDraining, t.To == pool.StateDrained:
		// No new request will use them; in-flight ones keep theirs.
		// Requests that ended while draining left their connections
		// idle, hence the second sweep when the drain ends.
		client.CloseIdle()
	}
}
