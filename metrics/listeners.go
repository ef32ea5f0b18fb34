package metrics

import "github.com/prometheus/client_golang/prometheus"

// Names of the listener metrics.
const (
	NameClientRejections  = "lb_client_rejections_total"
	NameClientConnections = "lb_client_connections"
	NameStreamsOpen       = "lb_streams_open"
	NameStreamsEnded      = "lb_streams_ended_total"
	NameAccessLogLines    = "lb_access_log_lines_total"
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
	// StreamsOpen is the number of streamed answers open now;
	// StreamEnds counts those that ended, by end label.
	StreamsOpen int
	StreamEnds  map[string]uint64
	// AccessLog counts the access log's lines by result label
	// (AccessLogWritten, ...); nil without an access log.
	AccessLog map[string]uint64
}

// Results of an access log line, the "result" label of
// lb_access_log_lines_total.
const (
	AccessLogWritten    = "written"
	AccessLogDropped    = "dropped"
	AccessLogFailed     = "failed"
	AccessLogSampledOut = "sampled_out"
)

// listenerCollector reads the listeners' own counters at scrape time, so
// the request path pays nothing for these metrics.
type listenerCollector struct {
	listeners                      func() []ListenerCounts
	rejections, conns, open, ended *prometheus.Desc
	alog                           *prometheus.Desc
}

// CollectListeners adds the listener metrics, read from listeners at
// every scrape (it must be safe for concurrent use):
// lb_client_rejections_total{listener,reason} and
// lb_client_connections{listener}, lb_streams_open{listener} and
// lb_streams_ended_total{listener,end}. Call it once.
func (m *Metrics) CollectListeners(listeners func() []ListenerCounts) {
	m.reg.MustRegister(&listenerCollector{
		listeners: listeners,
		rejections: prometheus.NewDesc(NameClientRejections,
			"Client requests or connections the listener refused, by listener and reason (a limit such as header_too_large or read_header_timeout, or a malformed request).",
			[]string{"listener", "reason"}, nil),
		conns: prometheus.NewDesc(NameClientConnections,
			"Client connections open now, by listener.",
			[]string{"listener"}, nil),
		open: prometheus.NewDesc(NameStreamsOpen,
			"Answers being streamed to clients now (their body relayed as it arrives), by listener.",
			[]string{"listener"}, nil),
		ended: prometheus.NewDesc(NameStreamsEnded,
			"Streamed answers that ended, by listener and how: complete, backend_failed, backend_idle, client_gone, deregistration, shutdown.",
			[]string{"listener", "end"}, nil),
		alog: prometheus.NewDesc(NameAccessLogLines,
			"Access log lines by listener and result: written, dropped (the writer was behind and the queue full), failed (the write failed), sampled_out (2xx lines left out by sample_2xx).",
			[]string{"listener", "result"}, nil),
	})
}

// Describe implements prometheus.Collector.
func (c *listenerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.rejections
	ch <- c.conns
	ch <- c.open
	ch <- c.ended
	ch <- c.alog
}

// Collect implements prometheus.Collector.
func (c *listenerCollector) Collect(ch chan<- prometheus.Metric) {
	for _, l := range c.listeners() {
		ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(l.Open), l.Name)
		for reason, n := range l.Rejections {
			ch <- prometheus.MustNewConstMetric(c.rejections, prometheus.CounterValue, float64(n), l.Name, reason)
		}
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(l.StreamsOpen), l.Name)
		for end, n := range l.StreamEnds {
			ch <- prometheus.MustNewConstMetric(c.ended, prometheus.CounterValue, float64(n), l.Name, end)
		}
		for result, n := range l.AccessLog {
			ch <- prometheus.MustNewConstMetric(c.alog, prometheus.CounterValue, float64(n), l.Name, result)
		}
	}
}
