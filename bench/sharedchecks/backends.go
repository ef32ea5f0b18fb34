package main

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lbtrust/lb/internal/freeport"
)

// probePath is the health check's path; anything else is answered 404.
const probePath = "/healthz"

// probe is one health probe a backend answered.
type probe struct {
	At      time.Duration // since the backends started
	Backend int32         // index into backends.addrs
	Member  int16         // index into the member names; -1: another Host
}

// backends serves n HTTP backends in this process, one 127.0.0.1
// listener each (below the ephemeral port range, which the lb's probe
// connections need), with one net/http server. Each answers GET
// /healthz with 200, or 503 while told to fail, and logs the probe with
// the Host it carried: the lb health check's host, set to the member
// name of the instance that sent it. Safe for concurrent use.
type backends struct {
	addrs   []string
	index   map[string]int // address → backend
	members map[string]int // Host → member
	start   time.Time
	fail    []atomic.Bool
	srv     *http.Server
	wg      sync.WaitGroup

	mu     sync.Mutex
	probes []probe
}

// startBackends starts n backends; members are the Hosts probes are
// attributed to (any other counts as -1).
func startBackends(n int, members []string) (*backends, error) {
	lns, err := freeport.Listen(n)
	if err != nil {
		return nil, err
	}
	b := &backends{
		index:   make(map[string]int, n),
		members: make(map[string]int, len(members)),
		start:   time.Now(),
		fail:    make([]atomic.Bool, n),
		probes:  make([]probe, 0, 1<<16),
	}
	for i, m := range members {
		b.members[m] = i
	}
	for i, ln := range lns {
		a := ln.Addr().String()
		b.addrs = append(b.addrs, a)
		b.index[a] = i
	}
	b.srv = &http.Server{Handler: http.HandlerFunc(b.serve), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	for _, ln := range lns {
		// Serve closes ln when it returns.
		b.wg.Go(func() { _ = b.srv.Serve(ln) })
	}
	return b, nil
}

// serve answers a probe, logging it.
func (b *backends) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Since(b.start)
	if r.URL.Path != probePath {
		http.NotFound(w, r)
		return
	}
	la, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if la == nil {
		http.Error(w, "no local address", http.StatusInternalServerError)
		return
	}
	i, ok := b.index[la.String()]
	if !ok {
		http.NotFound(w, r)
		return
	}
	m, ok := b.members[r.Host]
	if !ok {
		m = -1
	}
	b.mu.Lock()
	b.probes = append(b.probes, probe{At: at, Backend: int32(i), Member: int16(m)})
	b.mu.Unlock()
	if b.fail[i].Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ok"))
}

// setFailing makes backend i answer its probes 503 (or 200 again).
func (b *backends) setFailing(i int, fail bool) { b.fail[i].Store(fail) }

// at is a time as an offset in the probe log.
func (b *backends) at(t time.Time) time.Duration { return t.Sub(b.start) }

// mark is the number of probes logged so far: a position to read from.
func (b *backends) mark() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.probes)
}

// between returns a copy of the probes logged from position from up to
// position to (-1: up to now), in the order logged (time order up to the
// scheduling of the handlers).
func (b *backends) between(from, to int) []probe {
	b.mu.Lock()
	defer b.mu.Unlock()
	if to < 0 || to > len(b.probes) {
		to = len(b.probes)
	}
	return append([]probe(nil), b.probes[min(from, to):to]...)
}

// stop closes every listener and connection and waits for the servers.
func (b *backends) stop() {
	b.srv.Close()
	b.wg.Wait()
}
