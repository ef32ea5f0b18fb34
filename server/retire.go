package server

import (
	"sync"

	"go.uber.org/zap"
)

// A pool a reload removes (or renames) is retired: its backends drain and
// it stays in lb.retired until every backend it ever had is forgotten
// and that backend's checker has stopped (poolRuntime.unreaped reaches
// 0). It is then freed: it leaves lb.retired, its silent-detection
// watchdog stops (pool.Pool.Close) and its metric series are deleted,
// unless a pool of the same name is in service or retired. Shutdown
// closes whatever is still retired.

// reaper runs what follows a forgotten backend (stop its checker, free
// its pool if it was the last) on goroutines that Shutdown waits for.
// Safe for concurrent use; Go never blocks, so transition hooks may call
// it.
type reaper struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// Go runs f on a new goroutine unless Close was called; it reports
// whether f runs.
func (r *reaper) Go(f func()) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.wg.Go(f)
	return true
}

// Close makes later Go calls run nothing and waits for the goroutines
// already started. Idempotent.
func (r *reaper) Close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.wg.Wait()
}

// reap stops the checker of br, whose backend its pool has forgotten,
// and frees br's pool if it is retired and br was its last backend. It
// runs on a reaper goroutine (never a checker's own) and takes lb.mu.
func (lb *LB) reap(br *backendRuntime) {
	br.retire()
	if lb.fleet != nil && br.fleet != nil {
		lb.fleet.unregister(br)
	}
	pr := br.owner
	lb.mu.Lock()
	pr.unreaped--
	free := pr.unreaped == 0 && lb.unretireLocked(pr)
	if free {
		lb.forgetPoolMetricsLocked(pr.pool.Name())
	}
	lb.mu.Unlock()
	if free {
		pr.pool.Close()
		lb.log.Info("retired pool freed", zap.String("pool", pr.pool.Name()))
	}
}

// retireLocked keeps pr, which a reload has just taken out of lb.pools
// and whose backends it has removed, until its last backend is reaped; a
// pool that has none left to reap is freed at once.
func (lb *LB) retireLocked(pr *poolRuntime) {
	if pr.unreaped > 0 {
		lb.retired = append(lb.retired, pr)
		return
	}
	lb.forgetPoolMetricsLocked(pr.pool.Name())
	pr.pool.Close()
}

// unretireLocked takes pr out of lb.retired and reports whether it was
// there.
func (lb *LB) unretireLocked(pr *poolRuntime) bool {
	for i, x := range lb.retired {
		if x == pr {
			lb.retired = append(lb.retired[:i:i], lb.retired[i+1:]...)
			return true
		}
	}
	return false
}

// forgetPoolMetricsLocked deletes the metric series of a pool that left
// for good, unless another pool of that name, in service or retired,
// still counts into them.
func (lb *LB) forgetPoolMetricsLocked(name string) {
	for _, pr := range lb.pools {
		if pr.pool.Name() == name {
			return
		}
	}
	for _, pr := range lb.retired {
		if pr.pool.Name() == name {
			return
		}
	}
	lb.metrics.ForgetPool(name)
}
