package report

import (
	"encoding/json"
	"time"
)

// Duration is a time.Duration that reads and writes JSON as a Go duration
// string ("20s", "500ms").
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string (or, leniently, nanoseconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var ns int64
		if err2 := json.Unmarshal(b, &ns); err2 != nil {
			return err
		}
		*d = Duration(ns)
		return nil
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

// D is the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Config is everything a run was asked to do: the benchmark's flags after
// defaults were applied, and the load balancer configuration it used.
type Config struct {
	Scenario     string   `json:"scenario"`                // kill, drain, hang, slow, errors, flap, rolling, throughput, none, stream
	Rate         int      `json:"rate"`                    // requests per second; 0 for throughput (closed loop)
	Duration     Duration `json:"duration"`                // how long the load ran
	Connections  int      `json:"connections"`             // idle keep-alive connections kept to the target
	Workers      int      `json:"workers"`                 // closed-loop concurrency (throughput); 0: vegeta's default
	Timeout      Duration `json:"timeout"`                 // per-request timeout of the load generator
	Method       string   `json:"method"`                  // GET or POST
	BodySize     int      `json:"body_size"`               // request body bytes (POST)
	Path         string   `json:"path"`                    // request path
	FaultAt      Duration `json:"fault_at"`                // when the fault was injected, since the load began
	RestoreAt    Duration `json:"restore_at"`              // when it was undone
	FaultBackend int      `json:"fault_backend"`           // which backend was faulted, 1-based
	Backends     int      `json:"backends"`                // how many backends ran
	BackendPorts []int    `json:"backend_ports,omitempty"` // fixed backend ports, if any
	ResponseSize int      `json:"response_size"`           // backend answer body bytes
	Latency      Duration `json:"latency"`                 // backend latency per request
	DrainPeriod  Duration `json:"drain_period"`            // how long a backend announces shutting_down after SIGTERM
	FlapPeriod   Duration `json:"flap_period"`             // each half of a readyz flap cycle

	// The stream scenario: Downloads at once, of Size bytes each, through
	// the target; then SSEStreams event streams through the target and as
	// many direct to the first backend, one event every SSEEvery for
	// SSEDuration. MaxTargetRSS (bytes) stops the downloads when the
	// target's RSS passes it.
	Downloads    int      `json:"downloads,omitempty"`
	Size         int64    `json:"size,omitempty"`
	SSEStreams   int      `json:"sse_streams,omitempty"`
	SSEEvery     Duration `json:"sse_every,omitempty"`
	SSEDuration  Duration `json:"sse_duration,omitempty"`
	MaxTargetRSS int64    `json:"max_target_rss,omitempty"`

	// The chaos scenario: the schedule's seed, how many backends it
	// leaves untouched at every moment, the mean time between two steps,
	// and the longest wait for the lb to settle after the load.
	Seed       uint64   `json:"seed,omitempty"`
	MinServing int      `json:"min_serving,omitempty"`
	ChaosEvery Duration `json:"chaos_every,omitempty"`
	Settle     Duration `json:"settle,omitempty"`

	// Target is how the load balancer under test was run: "lb" (built
	// and configured by the bench), "lb-config" (built, the user's
	// -config), "cmd" (-target-cmd) or "addr" (already running).
	Target     string `json:"target"`
	TargetCmd  string `json:"target_cmd,omitempty"`  // the -target-cmd command line
	TargetAddr string `json:"target_addr"`           // where the load was sent
	AdminAddr  string `json:"admin_addr,omitempty"`  // the lb admin listener polled for /status
	ConfigFile string `json:"config_file,omitempty"` // the -config file
	LBBin      string `json:"lb_bin,omitempty"`      // the -lb-bin binary

	// Health checks and pool settings of the lb's configuration
	// (generated, or read from -config).
	HCInterval          Duration `json:"hc_interval"`
	HCTimeout           Duration `json:"hc_timeout"`
	HealthyThreshold    int      `json:"healthy_threshold"`
	UnhealthyThreshold  int      `json:"unhealthy_threshold"`
	Algorithm           string   `json:"algorithm"`
	DeregistrationDelay Duration `json:"deregistration_delay"`
	// StatusPoll is how often the lb's /status was polled.
	StatusPoll Duration `json:"status_poll"`

	// LBConfig is the text of the load balancer's configuration, when the
	// bench generated or read it.
	LBConfig string `json:"lb_config,omitempty"`
}

// Machine describes where the run happened.
type Machine struct {
	CPUs      int    `json:"cpus"`             // runtime.NumCPU
	GOOS      string `json:"goos"`             // runtime.GOOS
	GOARCH    string `json:"goarch"`           // runtime.GOARCH
	GoVersion string `json:"go_version"`       // the toolchain that built the bench
	Kernel    string `json:"kernel,omitempty"` // /proc/sys/kernel/osrelease
}
