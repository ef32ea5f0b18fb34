package pool

import "time"

// Source states, SourceStatus.State.
const (
	// SourcePending: the source has not answered yet.
	SourcePending = "pending"
	// SourceOK: the source's last read succeeded.
	SourceOK = "ok"
	// SourceStale: the source's last read failed; the pool keeps the last
	// set it read (none, if it never answered).
	SourceStale = "stale"
)

// SourceStatus describes one discovery source of the pool, as the server
// that runs it reports it (SetSources). The pool only keeps and shows it.
type SourceStatus struct {
	// Source names it: its type and what it reads, such as
	// "dns _http._tcp.web.internal (srv)" or "etcd /lb/pools/web/".
	Source string `json:"source"`
	// State is SourcePending, SourceOK or SourceStale.
	State string `json:"state"`
	// Backends is how many backends its set in force lists.
	Backends int `json:"backends"`
	// LastSuccess is its latest successful read; nil before the first.
	LastSuccess *time.Time `json:"last_success,omitempty"`
	// LastError and LastErrorAt are its latest failure, kept after it
	// recovers; empty and nil before the first.
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
	// Updates and Errors count its successful and failed reads.
	Updates uint64 `json:"updates"`
	Errors  uint64 `json:"errors"`
}

// SetSources replaces what the pool shows of its discovery sources
// (PoolStatus.Discovery, Stale). The pool keeps its own copy. Safe for
// concurrent use.
func (p *Pool) SetSources(s []SourceStatus) {
	c := append([]SourceStatus(nil), s...)
	p.mu.Lock()
	p.sources = c
	p.mu.Unlock()
}

// Sources returns a copy of what SetSources last set.
func (p *Pool) Sources() []SourceStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]SourceStatus(nil), p.sources...)
}
