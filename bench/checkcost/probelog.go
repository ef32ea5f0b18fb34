package main

import (
	"sync"
	"sync/atomic"
	"time"
)

// arrival is one probe as a backend saw it.
type arrival struct {
	At      time.Duration // since the log's start
	Backend int32         // index of the backend's listener
}

// probeLog records every probe the backends receive during one run.
// Safe for concurrent use.
type probeLog struct {
	start  time.Time
	counts []atomic.Int32 // probes per backend
	other  atomic.Int64   // requests that were not GET /readyz

	mu       sync.Mutex
	arrivals []arrival
}

// newProbeLog starts a log for n backends.
func newProbeLog(n int) *probeLog {
	return &probeLog{start: time.Now(), counts: make([]atomic.Int32, n), arrivals: make([]arrival, 0, 1<<16)}
}

// add records a request to backend i that arrived at at.
func (l *probeLog) add(i int, at time.Time, probe bool) {
	if !probe {
		l.other.Add(1)
		return
	}
	l.counts[i].Add(1)
	l.mu.Lock()
	l.arrivals = append(l.arrivals, arrival{At: at.Sub(l.start), Backend: int32(i)})
	l.mu.Unlock()
}

// since is t as an offset in the log.
func (l *probeLog) since(t time.Time) time.Duration { return t.Sub(l.start) }

// minCount is the fewest probes any backend has received.
func (l *probeLog) minCount() int {
	m := int32(-1)
	for i := range l.counts {
		if c := l.counts[i].Load(); m < 0 || c < m {
			m = c
		}
	}
	return int(max(m, 0))
}

// probed is how many backends have received at least k probes.
func (l *probeLog) probed(k int) int {
	n := 0
	for i := range l.counts {
		if int(l.counts[i].Load()) >= k {
			n++
		}
	}
	return n
}

// snapshot returns the arrivals so far, in the order they were recorded
// (which is time order up to the scheduling of the backends' goroutines).
func (l *probeLog) snapshot() []arrival {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]arrival(nil), l.arrivals...)
}
