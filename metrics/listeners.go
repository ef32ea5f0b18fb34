package metrics

import "github.com/prometheus/client_golang/prometheus"

// Names of the listener metrics.
const (
	NameClientRejections  = "lb_client_rejections_total"
	NameClientConnections = "lb_client_connections"
)

// ListenerCounts is what one traffic listener reports at scrape time.
type ListenerCounts struct {
	// Name is the listener's name (the "listener" label).
	Name string
	// Open is the number of client connections open now.
	Open int64
	// Rejections counts refusals by reason label (every reason, zeros
	// included).
	Rejections map[string]uint64
}

// listenerCollector reads the listeners' own counters at scrape time, so
// the request path pays nothing for these metrics.
type listenerCollector struct {
	listeners         func() []ListenerCounts
	rejections, conns *prometheus.Desc
}

// CollectListeners adds the listener metrics, read from listeners at
// every scrape (it must be safe for concurrent use):
// lb_client_rejections_total{listener,reason} and
// lb_client_connections{listener}. Call it once.
func (m *Metrics) CollectListeners(listeners func() []ListenerCounts) {
	m.reg.MustRegister(&listenerCollector{
		listeners: listeners,
		rejections: prometheus.NewDesc(NameClientRejections,
			"Client requests or connections the listener refused, by listener and reason (a limit such as header_too_large or read_header_timeout, or a malformed request).",
			[]string{"listener", "reason"}, nil),
		conns: prometheus.NewDesc(NameClientConnections,
			"Client connections open now, by listener.",
			[]string{"listener"}, nil),
	})
}

// Describe implements prometheus.Collector.
func (c *listenerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.rejections
	ch <- c.conns
}

// Collect implements prometheus.Collector.
func (c *listenerCollector) Collect(ch chan<- prometheus.Metric) {
	for _, l := range c.listeners() {
		ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(l.Open), l.Name)
		for reason, n := range l.Rejections {
			ch <- prometheus.MustNewConstMetric(c.rejections, prometheus.CounterValue, float64(n), l.Name, reason)
		}
	}
}
