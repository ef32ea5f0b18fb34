package metrics

import (
	"github.com/lbtrust/lb/pool"
	"github.com/prometheus/client_golang/prometheus"
)

// refPoolCollector is the pool collector as it was before /metrics wrote
// the pool families itself (issue 14): each series a
// prometheus.MustNewConstMetric, gathered and encoded by client_golang.
// It is kept as the reference that the hand-written text must match
// (TestPoolFamiliesMatchClientGolang).
type refPoolCollector struct {
	pools                                func() []*pool.Pool
	requests, noBackend, inFlight, state *prometheus.Desc
	retries, retriesRefused, streams     *prometheus.Desc
	rescued                              *prometheus.Desc
	discoveryReads, discoveryBackends    *prometheus.Desc
	discoveryStale                       *prometheus.Desc
}

func newRefPoolCollector(pools func() []*pool.Pool) *refPoolCollector {
	return &refPoolCollector{
		pools: pools,
		requests: prometheus.NewDesc(NameRequests,
			"Tries sent to a backend by pool, backend and how they ended: the answer's status class (1xx..5xx) or error (no answer: transport error, timeout, or a failure of the LB itself). A retried request counts once per try.",
			[]string{"pool", "backend", "class"}, nil),
		noBackend: prometheus.NewDesc(NameNoBackend,
			"Requests answered 503 by the LB because the pool had no backend to send them to, by pool.",
			[]string{"pool"}, nil),
		inFlight: prometheus.NewDesc(NameInFlight,
			"Requests a backend is serving now, by pool and backend.",
			[]string{"pool", "backend"}, nil),
		streams: prometheus.NewDesc(NameStreams,
			"Answers a backend is streaming now (their body relayed as it arrives: Server-Sent Events, large downloads), by pool and backend; lb_backend_in_flight counts them too.",
			[]string{"pool", "backend"}, nil),
		state: prometheus.NewDesc(NameState,
			"1 for the backend's current state, 0 for the others, by pool, backend and state.",
			[]string{"pool", "backend", "state"}, nil),
		retries: prometheus.NewDesc(NameRetries,
			"Requests sent again to another backend, by pool.",
			[]string{"pool"}, nil),
		retriesRefused: prometheus.NewDesc(NameRetriesRefused,
			"Retries not made because the pool's retry budget was spent, by pool.",
			[]string{"pool"}, nil),
		rescued: prometheus.NewDesc(NameRescued,
			"Requests that were waiting on a backend when it was held out for not answering (silent, passive_ejection) and were sent to another backend instead, by pool and the backend they were rescued from.",
			[]string{"pool", "backend"}, nil),
		discoveryReads: prometheus.NewDesc(NameDiscoveryReads,
			"Reads of a discovery source (a DNS lookup, an etcd read or watch update) by pool, source and result (ok, error).",
			[]string{"pool", "source", "result"}, nil),
		discoveryBackends: prometheus.NewDesc(NameDiscoveryTarget,
			"Backends in the set in force of a discovery source, by pool and source.",
			[]string{"pool", "source"}, nil),
		discoveryStale: prometheus.NewDesc(NameDiscoveryStale,
			"1 while a discovery source's last read failed (the pool keeps the last set it read), else 0; by pool and source.",
			[]string{"pool", "source"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *refPoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.requests, c.noBackend, c.inFlight, c.streams, c.state, c.retries, c.retriesRefused, c.rescued,
		c.discoveryReads, c.discoveryBackends, c.discoveryStale} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. Counters of a backend or pool
// a reload removed disappear with it; a re-added one starts from zero,
// which Prometheus reads as a counter reset.
func (c *refPoolCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.pools() {
		st := p.Status()
		name := st.Name
		ch <- prometheus.MustNewConstMetric(c.retries, prometheus.CounterValue, float64(st.Retries), name)
		ch <- prometheus.MustNewConstMetric(c.retriesRefused, prometheus.CounterValue, float64(st.RetriesRefused), name)
		ch <- prometheus.MustNewConstMetric(c.noBackend, prometheus.CounterValue, float64(p.NoBackend()), name)
		for _, s := range st.Discovery {
			ch <- prometheus.MustNewConstMetric(c.discoveryReads, prometheus.CounterValue, float64(s.Updates), name, s.Source, "ok")
			ch <- prometheus.MustNewConstMetric(c.discoveryReads, prometheus.CounterValue, float64(s.Errors), name, s.Source, "error")
			ch <- prometheus.MustNewConstMetric(c.discoveryBackends, prometheus.GaugeValue, float64(s.Backends), name, s.Source)
			stale := 0.0
			if s.State == pool.SourceStale {
				stale = 1
			}
			ch <- prometheus.MustNewConstMetric(c.discoveryStale, prometheus.GaugeValue, stale, name, s.Source)
		}
		for _, bs := range st.Backends {
			addr := bs.Address
			ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(bs.InFlight), name, addr)
			ch <- prometheus.MustNewConstMetric(c.streams, prometheus.GaugeValue, float64(bs.Streams), name, addr)
			ch <- prometheus.MustNewConstMetric(c.rescued, prometheus.CounterValue, float64(bs.Rescued), name, addr)
			for _, s := range states {
				v := 0.0
				if bs.State == s {
					v = 1
				}
				ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, v, name, addr, s.String())
			}
		}
		// The answer counts live on the backends themselves; a backend
		// being removed is still listed (with its counters) until its
		// drain ends, like in Status.
		for _, b := range p.Backends() {
			a := b.Answers()
			for i, class := range classes {
				ch <- prometheus.MustNewConstMetric(c.requests, prometheus.CounterValue, float64(a.ByClass[i]), name, b.Address(), class)
			}
			ch <- prometheus.MustNewConstMetric(c.requests, prometheus.CounterValue, float64(a.Unanswered), name, b.Address(), "error")
		}
	}
}
