package pool

import "time"

// Large pools rebuild their eligible snapshot at most once per
// publishWindow for transitions (republishSoonLocked). A rebuild is O(n):
// at startup every backend of a 10,000-backend pool passes its first
// checks within one interval, and one rebuild per transition made that
// O(n²), 88% of everything lb allocated in its first seconds (1.25 GB)
// and most of its CPU then. Coalesced, a burst of transitions costs one
// rebuild per window.
//
// What the window delays is harmless or covered:
//   - a backend that becomes eligible is in the snapshot at most one
//     window later (it has waited a check interval already);
//   - a backend that leaves stays in the stale snapshot at most one window,
//     but Acquire re-checks the state of the backend it picked and picks
//     again, and if every try of a request lands on a backend that left
//     while a rebuild is pending, it rebuilds at once and tries again
//     (acquireAfterPublish), so no request is refused for the delay.
//
// Settings changes (weights, policy, resilience) and removals still
// rebuild at once. Pools below coalesceFrom backends always do.
const (
	coalesceFrom  = 256
	publishWindow = 10 * time.Millisecond
)

// republishSoonLocked is republishLocked for a transition: at once in a
// small pool, or when the last rebuild is a window old; else it arms one
// rebuild at the end of the window (one at most is pending). The pool's
// lock must be held.
func (p *Pool) republishSoonLocked() {
	if len(p.backends) < coalesceFrom || p.closed {
		p.republishLocked()
		return
	}
	if p.publishPending.Load() {
		return
	}
	now := time.Now()
	wait := p.lastPublish.Add(publishWindow).Sub(now)
	if wait <= 0 {
		p.republishLocked()
		return
	}
	p.publishPending.Store(true)
	if p.publishTimer == nil {
		p.publishTimer = time.AfterFunc(wait, p.publishPendingNow)
	} else {
		p.publishTimer.Reset(wait)
	}
}

// publishPendingNow rebuilds the snapshot if a rebuild is pending (the
// window's timer, or an Acquire that found only departed backends).
func (p *Pool) publishPendingNow() {
	p.mu.Lock()
	if p.publishPending.Load() && !p.closed {
		p.republishLocked()
	}
	p.mu.Unlock()
	p.flush() // a mode change logs through the outbox
}

// stopPublishTimerLocked drops a pending rebuild's timer (Close).
func (p *Pool) stopPublishTimerLocked() {
	if p.publishTimer != nil {
		p.publishTimer.Stop()
	}
	p.publishPending.Store(false)
}
