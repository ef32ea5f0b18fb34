package pool

// Cheap read-only views for scrapes of large pools (issue 14): /metrics
// and /status of 10,000 backends read them without building a
// PoolStatus, so the answer costs about its own size, not ~4 KB of
// garbage per backend.

// RangeBackends calls fn for each backend of the pool, in the order of
// Backends (those being removed included until their drain ends), until
// fn returns false. The pool's lock is held only to read the list, never
// while fn runs, so fn may call any method of the pool or its backends;
// a backend added or forgotten meanwhile may or may not be seen.
// Allocation-free.
func (p *Pool) RangeBackends(fn func(*Backend) bool) {
	p.mu.Lock()
	bs := p.backends // never changed in place (see Pool.backends)
	p.mu.Unlock()
	for _, b := range bs {
		if !fn(b) {
			return
		}
	}
}

// Summary is Status without the backends (Backends is nil; Healthy still
// counts them). It takes the pool's lock briefly and allocates only the
// copy of Discovery.
func (p *Pool) Summary() PoolStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.summaryLocked()
}

// StatusView is what EachStatus fills for one backend: Status is the
// backend's view as in Status, and its pointers point into the
// StatusView. One StatusView is reused for a whole EachStatus.
type StatusView struct {
	Status    BackendStatus
	drainLeft float64
	lastCheck CheckStatus
}

// EachStatus calls fn for each of bs (backends of this pool, such as
// RangeBackends gives) with its view in v, all under the pool's lock
// taken once: fn must be quick (no I/O), must not call the pool's or a
// backend's methods, and must not keep v or anything it points to past
// its return (v is overwritten for the next backend). A backend of bs
// the pool has forgotten is still shown, as it was last. Allocation-free
// but for the text of a last check's error.
func (p *Pool) EachStatus(bs []*Backend, v *StatusView, fn func(v *StatusView)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range bs {
		b.fillStatusLocked(&v.Status, &v.drainLeft, &v.lastCheck)
		fn(v)
	}
}
