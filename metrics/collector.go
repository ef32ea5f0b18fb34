package metrics

import "github.com/lbtrust/lb/pool"

// The pool families: the pools' own counters and states, read at scrape
// time so the request path pays nothing for them, and written straight
// as Prometheus text (text.go) by Handler, not through client_golang: a
// const metric, its label pairs and its dto copy cost ~10 KB of garbage
// per backend, 100 MB for one scrape of 10,000 backends (issue 14).
// TestPoolFamiliesMatchClientGolang holds the text to what client_golang
// wrote for the same series.

// classes are the status class label values of lb_requests_total, in the
// order of pool.Answers.ByClass, then "error" for Answers.Unanswered.
var classes = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

// states are the states lb_backend_state reports, one series each.
var states = [...]pool.State{pool.StateInitial, pool.StateHealthy, pool.StateUnhealthy, pool.StateDraining, pool.StateDrained}

// scope says what a pool family has series for.
type scope uint8

const (
	perPool    scope = iota // one set per pool
	perSource               // one set per discovery source of a pool
	perBackend              // one set per backend of a pool
)

// poolFamily is one metric family written from the pools.
type poolFamily struct {
	name, help, typ string
	scope           scope
	// write appends the family's samples of pool p, whose Summary is s.
	write func(t *textWriter, name string, p *pool.Pool, s *pool.PoolStatus)
}

// poolFamilies are the pool families in name order (the order of the
// registry's families, with which Handler merges them). Labels are
// written in name order, as client_golang writes them. Read-only.
var poolFamilies = [...]poolFamily{
	{NameInFlight, "Requests a backend is serving now, by pool and backend.",
		"gauge", perBackend, func(t *textWriter, name string, p *pool.Pool, s *pool.PoolStatus) {
			p.RangeBackends(func(b *pool.Backend) bool {
				t.sample2(name, "backend", b.Address(), "pool", s.Name, float64(b.InFlight()))
				return t.err == nil
			})
		}},
	{NameRescued, "Requests that were waiting on a backend when it was held out for not answering (silent, passive_ejection) and were sent to another backend instead, by pool and the backend they were rescued from.",
		"counter", perBackend, func(t *textWriter, name string, p *pool.Pool, s *pool.PoolStatus) {
			p.RangeBackends(func(b *pool.Backend) bool {
				t.sample2(name, "backend", b.Address(), "pool", s.Name, float64(b.Rescued()))
				return t.err == nil
			})
		}},
	{NameState, "1 for the backend's current state, 0 for the others, by pool, backend and state.",
		"gauge", perBackend, func(t *textWriter, name string, p *pool.Pool, s *pool.PoolStatus) {
			p.RangeBackends(func(b *pool.Backend) bool {
				now := b.State()
				for _, st := range states {
					v := 0.0
					if st == now {
						v = 1
					}
					t.sample3(name, "backend", b.Address(), "pool", s.Name, "state", st.String(), v)
				}
				return t.err == nil
			})
		}},
	{NameStreams, "Answers a backend is streaming now (their body relayed as it arrives: Server-Sent Events, large downloads), by pool and backend; lb_backend_in_flight counts them too.",
		"gauge", perBackend, func(t *textWriter, name string, p *pool.Pool, s *pool.PoolStatus) {
			p.RangeBackends(func(b *pool.Backend) bool {
				t.sample2(name, "backend", b.Address(), "pool", s.Name, float64(b.Streams()))
				return t.err == nil
			})
		}},
	{NameDiscoveryTarget, "Backends in the set in force of a discovery source, by pool and source.",
		"gauge", perSource, func(t *textWriter, name string, p *pool.Pool, s *pool.PoolStatus) {
			for _, d := range s.Discovery {
				t.sample2(name, "pool", s.Name, "source", d.Source, float64(d.Backends))
			}
		}},
	{NameDiscoveryReads, "Reads of a discovery source (a DNS lookup, an etcd read or watch update) by pool, source and result (ok, error).",
		"counter", perSource, func(t *textWriter, name string, p *pool.Pool, s *pool.PoolStatus) {
			for _, d := range s.Discovery {
				t.sample3(name, "pool", s.Name, "result", "ok", "source", d.Source, float64(d.Updates))
				t.sample3(name, "pool", s.Name, "result", "error", "source", d.Source, float64(d.Errors))
			}
		}},
	{NameDiscoveryStale, "1 while a discovery source's last read failed (the pool keeps the last set it read), else 0; by pool and source.",
		"gauge", perSource, func(t *textWriter, name string, p *pool.Pool, s *pool.PoolStatus) {
			for _, d := range s.Discovery {
				v := 0.0
				if d.State == pool.SourceStale {
					v = 1
				}
				t.sample2(name, "pool", s.Name, "source", d.Source, v)
			}
		}},
	{NameNoBackend, "Requests answered 503 by the LB because the pool had no backend to send them to, by pool.",
		"counter", perPool, func(t *textWriter, name string, p *pool.Pool, s *pool.PoolStatus) {
			t.sample1(name, "pool", s.Name, float64(p.NoBackend()))
		}},
	{NameRequests, "Tries sent to a backend by pool, backend and how they ended: the answer's status class (1xx..5xx) or error (no answer: transport error, timeout, or a failure of the LB itself). A retried request counts once per try.",
		"counter", perBackend, func(t *textWriter, name string, p *pool.Pool, s *pool.PoolStatus) {
			// The answer counts live on the backends themselves; a
			// backend being removed is still listed (with its counters)
			// until its drain ends, like in Status.
			p.RangeBackends(func(b *pool.Backend) bool {
				a := b.Answers()
				for i, class := range classes {
					t.sample3(name, "backend", b.Address(), "class", class, "pool", s.Name, float64(a.ByClass[i]))
				}
				t.sample3(name, "backend", b.Address(), "class", "error", "pool", s.Name, float64(a.Unanswered))
				return t.err == nil
			})
		}},
	{NameRetriesRefused, "Retries not made because the pool's retry budget was spent, by pool.",
		"counter", perPool, func(t *textWriter, name string, p *pool.Pool, s *pool.PoolStatus) {
			t.sample1(name, "pool", s.Name, float64(s.RetriesRefused))
		}},
	{NameRetries, "Requests sent again to another backend, by pool.",
		"counter", perPool, func(t *textWriter, name string, p *pool.Pool, s *pool.PoolStatus) {
			t.sample1(name, "pool", s.Name, float64(s.Retries))
		}},
}

// poolScrape is what one scrape reads of the pools: each pool with its
// Summary (read once, for every family).
type poolScrape struct {
	pools []*pool.Pool
	sums  []pool.PoolStatus
	// has says which scopes have at least one series: a family with
	// none is left out, as client_golang leaves it out.
	has [perBackend + 1]bool
}

// readPools takes the Summary of each of pools. Counters of a backend or
// pool a reload removed disappear with it; a re-added one starts from
// zero, which Prometheus reads as a counter reset.
func readPools(pools []*pool.Pool) *poolScrape {
	ps := &poolScrape{pools: pools, sums: make([]pool.PoolStatus, len(pools))}
	for i, p := range pools {
		ps.sums[i] = p.Summary()
		ps.has[perPool] = true
		if len(ps.sums[i].Discovery) > 0 {
			ps.has[perSource] = true
		}
		if !ps.has[perBackend] {
			p.RangeBackends(func(*pool.Backend) bool {
				ps.has[perBackend] = true
				return false
			})
		}
	}
	return ps
}

// write appends family f of every pool, HELP and TYPE first, or nothing
// when f has no series.
func (ps *poolScrape) write(t *textWriter, f *poolFamily) {
	if !ps.has[f.scope] {
		return
	}
	t.header(f.name, f.help, f.typ)
	for i, p := range ps.pools {
		f.write(t, f.name, p, &ps.sums[i])
		if t.err != nil {
			return
		}
	}
}
