package metrics

import "github.com/prometheus/client_golang/prometheus"

// Names of the fleet metrics (a fleet block shares health checks through
// etcd).
const (
	NameFleetConnected      = "lb_fleet_connected"
	NameFleetMembers        = "lb_fleet_members"
	NameFleetProbedBackends = "lb_fleet_probed_backends"
	NameFleetWrites         = "lb_fleet_etcd_writes_total"
	NameFleetEvents         = "lb_fleet_watch_events_total"
)

// FleetCounts is what the fleet runtime reports at scrape time.
type FleetCounts struct {
	// Connected: etcd is reachable and the member set current.
	Connected bool
	// Members is the size of the live member set this instance sees.
	Members int
	// Owned, Adopted and Local count the backends this instance probes,
	// by why: one of their owners; adopted (no owner publishes on them);
	// held out by its own traffic.
	Owned, Adopted, Local int
	// Writes counts the verdict puts and deletes made in etcd; Events
	// the watch events received.
	Writes, Events uint64
}

// fleetCollector reads the fleet runtime at scrape time.
type fleetCollector struct {
	fleet                                    func() FleetCounts
	connected, members, probed, writes, evts *prometheus.Desc
}

// CollectFleet adds the fleet metrics, read from fleet at every scrape
// (it must be safe for concurrent use): lb_fleet_connected (1 or 0),
// lb_fleet_members, lb_fleet_probed_backends{why="owned|adopted|local"},
// lb_fleet_etcd_writes_total and lb_fleet_watch_events_total. Call it
// once, and only with a fleet block.
func (m *Metrics) CollectFleet(fleet func() FleetCounts) {
	m.reg.MustRegister(&fleetCollector{
		fleet: fleet,
		connected: prometheus.NewDesc(NameFleetConnected,
			"1 while this instance reaches etcd and shares its health checks with the fleet; 0 while it probes every backend itself.", nil, nil),
		members: prometheus.NewDesc(NameFleetMembers,
			"Live lb instances in this instance's view of the fleet (itself included).", nil, nil),
		probed: prometheus.NewDesc(NameFleetProbedBackends,
			"Backends this instance probes, by why: owned (one of its owners), adopted (no owner publishes a verdict on it), local (held out by this instance's own traffic).",
			[]string{"why"}, nil),
		writes: prometheus.NewDesc(NameFleetWrites,
			"Verdict puts and deletes this instance made in etcd.", nil, nil),
		evts: prometheus.NewDesc(NameFleetEvents,
			"Watch events this instance received from etcd (its own writes included).", nil, nil),
	})
}

// Describe implements prometheus.Collector.
func (c *fleetCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.connected
	ch <- c.members
	ch <- c.probed
	ch <- c.writes
	ch <- c.evts
}

// Collect implements prometheus.Collector.
func (c *fleetCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.fleet()
	connected := 0.0
	if f.Connected {
		connected = 1
	}
	ch <- prometheus.MustNewConstMetric(c.connected, prometheus.GaugeValue, connected)
	ch <- prometheus.MustNewConstMetric(c.members, prometheus.GaugeValue, float64(f.Members))
	ch <- prometheus.MustNewConstMetric(c.probed, prometheus.GaugeValue, float64(f.Owned), "owned")
	ch <- prometheus.MustNewConstMetric(c.probed, prometheus.GaugeValue, float64(f.Adopted), "adopted")
	ch <- prometheus.MustNewConstMetric(c.probed, prometheus.GaugeValue, float64(f.Local), "local")
	ch <- prometheus.MustNewConstMetric(c.writes, prometheus.CounterValue, float64(f.Writes))
	ch <- prometheus.MustNewConstMetric(c.evts, prometheus.CounterValue, float64(f.Events))
}
