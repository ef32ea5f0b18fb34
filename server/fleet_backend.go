package server

import (
	"slices"
	"sync"
	"time"

	"github.com/lbtrust/lb/fleet"
	"github.com/lbtrust/lb/pool"
)

// fleetBackend is what the fleet runtime keeps per backend: who owns its
// checks, whether this instance probes it and why, its own tally as an
// owner, and the combined verdict last given to the pool.
type fleetBackend struct {
	target  fleet.Target
	backend *pool.Backend
	pool    *pool.Pool

	mu sync.Mutex // guards what follows
	// owners are the members that own its checks, highest rank first,
	// over the member set last seen.
	owners []string
	// owned: this instance is one of owners. adopted: it probes as if it
	// were, because no owner has published a verdict on it for the
	// adoption grace (the owners lack it in their configuration).
	// local: it probes only to bring back a backend its own traffic
	// held out (passive ejection, silence); those results go to the pool
	// as they are.
	owned, adopted, local bool
	// orphanSince is when this instance, not an owner, first saw no
	// owner's verdict on it; zero while an owner's is there.
	orphanSince time.Time
	// tally is this instance's own count while it owns (or adopted) it.
	tally ownTally
	// applied is the combined verdict last given to the pool.
	applied    fleet.Verdict
	hasApplied bool
}

// probing reports whether this instance should run the backend's checker.
func (fb *fleetBackend) probing() bool {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	return fb.owned || fb.adopted || fb.local
}

// votersLocked are the members whose verdicts count for it: its owners,
// and this instance too while it adopted it. fb.mu must be held.
func (fb *fleetBackend) votersLocked(me string) []string {
	if fb.adopted && !fb.owned {
		return append(slices.Clip(fb.owners), me)
	}
	return fb.owners
}

// ownerKey is what rendezvous hashing ranks members for: the pool and
// the backend's address.
func ownerKey(t fleet.Target) string { return t.Pool + "/" + t.Backend }
