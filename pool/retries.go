package pool

// NoteRetry counts one request sent again to another backend of this pool
// (shown in /status as retries). Lock-free.
func (p *Pool) NoteRetry() { p.retries.Add(1) }

// NoteRetryRefused counts a retry the proxy did not make because the
// pool's retry budget was spent (shown in /status as
// retries_refused_by_budget). Lock-free.
func (p *Pool) NoteRetryRefused() { p.retriesRefused.Add(1) }

// NoteNoBackend counts a request answered 503 because the pool had no
// backend to send it to. Lock-free.
func (p *Pool) NoteNoBackend() { p.noBackend.Add(1) }

// NoBackend is how many requests NoteNoBackend counted.
func (p *Pool) NoBackend() uint64 { return p.noBackend.Load() }
