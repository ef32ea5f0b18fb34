// Package metrics exposes the load balancer's Prometheus metrics. One
// Metrics holds one registry (never the global default one) for one LB.
//
// What changes on the request path is counted by atomics the pool already
// keeps (pool.Backend.Answers, in-flight counts, pool retry counters) and
// read by a collector at scrape time, so serving a request costs nothing
// extra here; the one request-path observation, the request duration
// histogram, uses a child resolved per pool when routes are built
// (RequestDuration), which is lock-free and allocation-free.
// Transitions and probe results, which are rare, are counted as they
// happen (Transition, CheckObserver); ForgetPool deletes those series of
// a pool once it has left service for good.
//
// Handler (handler.go) writes the families of the pools' own counters,
// which have series per backend, itself (collector.go, text.go), so a
// scrape of 10,000 backends costs little more than a fixed buffer; the
// rest goes through the registry.
package metrics

import (
	"compress/gzip"
	"sync"

	"github.com/lbtrust/lb/pool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metric names, for the README and tests.
const (
	NameRequests        = "lb_requests_total"
	NameNoBackend       = "lb_requests_no_backend_total"
	NameRequestDuration = "lb_request_duration_seconds"
	NameInFlight        = "lb_backend_in_flight"
	NameStreams         = "lb_backend_streams"
	NameState           = "lb_backend_state"
	NameTransitions     = "lb_transitions_total"
	NameEjections       = "lb_ejections_total"
	NameDrains          = "lb_drains_total"
	NameCheckDuration   = "lb_health_check_duration_seconds"
	NameChecks          = "lb_health_checks_total"
	NameRetries         = "lb_retries_total"
	NameRetriesRefused  = "lb_retries_refused_total"
	NameRescued         = "lb_backend_rescued_total"
	NameDiscoveryReads  = "lb_discovery_reads_total"
	NameDiscoveryTarget = "lb_discovery_backends"
	NameDiscoveryStale  = "lb_discovery_stale"
)

// requestBuckets span a fast in-memory answer to a slow upstream (seconds).
var requestBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// checkBuckets span a loopback probe to a timed-out one (seconds).
var checkBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Metrics is the metric set of one load balancer. Safe for concurrent use.
type Metrics struct {
	reg             *prometheus.Registry
	requestDuration *prometheus.HistogramVec
	transitions     *prometheus.CounterVec
	ejections       *prometheus.CounterVec
	drains          *prometheus.CounterVec
	checkDuration   *prometheus.HistogramVec
	checks          *prometheus.CounterVec
	// pools returns the pools in service, for the pool families.
	pools func() []*pool.Pool
	// gzips holds *gzip.Writer for compressed scrapes.
	gzips sync.Pool
}

// New returns the metrics of an LB whose pools in service pools returns
// (called at every scrape; it must be safe for concurrent use). The
// registry also carries the Go runtime and process collectors.
func New(pools func() []*pool.Pool) *Metrics {
	m := &Metrics{
		pools: pools,
		gzips: sync.Pool{New: func() any { return gzip.NewWriter(nil) }},
		reg:   prometheus.NewRegistry(),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    NameRequestDuration,
			Help:    "Time from routing a client request to its answer being ready, every try included, by pool.",
			Buckets: requestBuckets,
		}, []string{"pool"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: NameTransitions,
			Help: "Backend state transitions by pool, from state, to state and reason.",
		}, []string{"pool", "from", "to", "reason"}),
		ejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: NameEjections,
			Help: "Backends taken out of rotation by a request-path signal (passive_ejection, silent), by pool and reason.",
		}, []string{"pool", "reason"}),
		drains: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: NameDrains,
			Help: "Backends that started draining, by pool and reason (backend_draining, admin_drain, removed_from_config, removed_from_discovery).",
		}, []string{"pool", "reason"}),
		checkDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    NameCheckDuration,
			Help:    "Active health check duration by pool.",
			Buckets: checkBuckets,
		}, []string{"pool"}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: NameChecks,
			Help: "Active health check results by pool and outcome (check_passed, backend_draining, timeout, connection_refused, ...).",
		}, []string{"pool", "outcome"}),
	}
	m.reg.MustRegister(
		m.requestDuration, m.transitions, m.ejections, m.drains, m.checkDuration, m.checks,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry is the registry of every metric but the pool families
// (collector.go), which Handler writes itself; for tests and embedding.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// RequestDuration returns the request duration histogram of pool
// poolName, resolved once so the request path observes into it without a
// lock or an allocation. Resolve it when routes are built, not per request.
func (m *Metrics) RequestDuration(poolName string) prometheus.Observer {
	return m.requestDuration.WithLabelValues(poolName)
}

// Transition counts one backend state transition (and an ejection or a
// drain when it is one). It is meant for the pools' OnTransition hook.
func (m *Metrics) Transition(t pool.Transition) {
	reason := string(t.Reason)
	if reason == "" {
		reason = "none"
	}
	m.transitions.WithLabelValues(t.Pool, t.From.String(), t.To.String(), reason).Inc()
	if t.From == t.To {
		return
	}
	switch {
	case t.To == pool.StateDraining:
		m.drains.WithLabelValues(t.Pool, reason).Inc()
	case t.To == pool.StateUnhealthy && (t.Reason == pool.ReasonPassiveEjection || t.Reason == pool.ReasonSilent):
		m.ejections.WithLabelValues(t.Pool, reason).Inc()
	}
}

// ForgetPool deletes every series this package keeps for pool poolName
// (request durations, transitions, ejections, drains, health checks), so
// a pool that left service for good holds no memory here. Call it once
// nothing of that pool is left to count: its backends forgotten, their
// checkers stopped, and no pool of the same name in service. A pool
// later made with that name starts from zero (a counter reset to
// Prometheus). An Observer RequestDuration returned before keeps working
// but is no longer exported.
func (m *Metrics) ForgetPool(poolName string) {
	l := prometheus.Labels{"pool": poolName}
	m.requestDuration.DeletePartialMatch(l)
	m.transitions.DeletePartialMatch(l)
	m.ejections.DeletePartialMatch(l)
	m.drains.DeletePartialMatch(l)
	m.checkDuration.DeletePartialMatch(l)
	m.checks.DeletePartialMatch(l)
}

// CheckObserver counts the active probe results of one pool.
type CheckObserver struct {
	pool     string
	duration prometheus.Observer
	checks   *prometheus.CounterVec
}

// Checks returns the probe result observer of pool poolName.
func (m *Metrics) Checks(poolName string) *CheckObserver {
	return &CheckObserver{pool: poolName, duration: m.checkDuration.WithLabelValues(poolName), checks: m.checks}
}

// ObserveCheck records one probe result: its latency and its outcome.
// Safe for concurrent use.
func (c *CheckObserver) ObserveCheck(r pool.CheckResult) {
	c.duration.Observe(r.Latency.Seconds())
	outcome := string(r.Outcome)
	if outcome == "" {
		outcome = "none"
	}
	c.checks.WithLabelValues(c.pool, outcome).Inc()
}
