package main

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/lbtrust/lb/internal/freeport"
)

// backends is the fleet of backends as the tool sees it: their addresses
// and the current probe log, which every request they read goes to. They
// are served in this process (server) when its descriptor limit allows,
// or split over helper processes (helper.go), each with its own limit.
// Safe for concurrent use.
type backends struct {
	addrs   []string
	log     atomic.Pointer[probeLog]
	local   *server   // nil when served by helpers
	helpers []*helper // nil when served here
}

// fdsPerBackend is the descriptors a backend may hold: its listener and
// the connection of a prober that keeps one open.
const fdsPerBackend = 2

// fdReserve is the descriptors a backends process keeps for the rest:
// its own files, pipes, probe connections that overlap.
const fdReserve = 1024

// startBackends starts n backends on 127.0.0.1, below the ephemeral range
// (freeport.Listen: the targets' probe connections need that range), at
// most perProc in one process: in this one when n <= perProc, else split
// evenly over helper processes.
func startBackends(n, perProc int) (*backends, error) {
	if perProc < 1 {
		return nil, errors.New("at most 0 backends per process")
	}
	b := &backends{}
	b.log.Store(newProbeLog(n))
	if n <= perProc {
		lns, err := freeport.Listen(n)
		if err != nil {
			return nil, err
		}
		for _, ln := range lns {
			b.addrs = append(b.addrs, ln.Addr().String())
		}
		b.local = serve(lns, b.record)
		return b, nil
	}
	procs := (n + perProc - 1) / perProc
	for k := range procs {
		lo, hi := n*k/procs, n*(k+1)/procs
		h, addrs, err := startHelper(hi-lo, lo, b.record)
		if err != nil {
			b.stop()
			return nil, fmt.Errorf("backends helper %d of %d: %w", k+1, procs, err)
		}
		b.helpers = append(b.helpers, h)
		b.addrs = append(b.addrs, addrs...)
	}
	return b, nil
}

// record adds a request to the current probe log.
func (b *backends) record(i int, at time.Time, probe bool) {
	b.log.Load().add(i, at, probe)
}

// reset starts a new probe log and returns it; probes arriving from now
// on go to it.
func (b *backends) reset() *probeLog {
	l := newProbeLog(len(b.addrs))
	b.log.Store(l)
	return l
}

// procs is how many processes serve the backends (1: this one).
func (b *backends) procs() int { return max(1, len(b.helpers)) }

// stop stops serving.
func (b *backends) stop() {
	if b.local != nil {
		b.local.stop()
	}
	for _, h := range b.helpers {
		h.stop()
	}
}
