package main

import (
	"fmt"
	"time"
)

// settings are what one run measures.
type settings struct {
	// Instances is how many lb processes share the checks (at least 1).
	Instances int `json:"instances"`
	// Backends is how many backends pool "web" has (at least 1).
	Backends int `json:"backends"`
	// Interval and Timeout are the health check's; Timeout 0 is 3/4 of
	// Interval.
	Interval Millis `json:"interval_ms"`
	Timeout  Millis `json:"timeout_ms"`
	// Replicas and TTL are the fleet block's.
	Replicas int    `json:"replicas"`
	TTL      Millis `json:"ttl_ms"`
	// Duration is the steady-state window.
	Duration Millis `json:"duration_ms"`
	// Unhealthy and Healthy are the health check's thresholds.
	Unhealthy int `json:"unhealthy_threshold"`
	Healthy   int `json:"healthy_threshold"`
	// JoinWindow is how long after an instance joins its writes and
	// events are counted.
	JoinWindow Millis `json:"join_window_ms"`
}

// defaults are the settings without flags.
func defaults() settings {
	return settings{Instances: 3, Backends: 1000, Interval: Millis(time.Second), Replicas: 2,
		TTL: Millis(2 * time.Second), Duration: Millis(20 * time.Second), Unhealthy: 2, Healthy: 2,
		JoinWindow: Millis(5 * time.Second)}
}

// validate checks the settings and fills Timeout's default.
func (s *settings) validate() error {
	switch {
	case s.Instances < 1 || s.Instances > 63:
		return fmt.Errorf("-instances %d: 1 to 63", s.Instances)
	case s.Backends < 1:
		return fmt.Errorf("-backends %d: at least 1", s.Backends)
	case s.Interval.D() < 10*time.Millisecond:
		return fmt.Errorf("-interval %s: at least 10ms", s.Interval.D())
	case s.Timeout < 0 || (s.Timeout > 0 && s.Timeout >= s.Interval):
		return fmt.Errorf("-timeout %s: below -interval %s", s.Timeout.D(), s.Interval.D())
	case s.Replicas < 1:
		return fmt.Errorf("-replicas %d: at least 1", s.Replicas)
	case s.TTL.D() < time.Second || s.TTL.D()%time.Second != 0:
		return fmt.Errorf("-ttl %s: whole seconds, at least 1s (etcd leases)", s.TTL.D())
	case s.Duration < s.Interval:
		return fmt.Errorf("-duration %s: at least one -interval", s.Duration.D())
	case s.Unhealthy < 1 || s.Healthy < 1:
		return fmt.Errorf("-unhealthy and -healthy: at least 1")
	case s.JoinWindow <= 0:
		return fmt.Errorf("-join-window %s: above 0", s.JoinWindow.D())
	}
	if s.Timeout == 0 {
		s.Timeout = s.Interval * 3 / 4
	}
	return nil
}

// Millis is a duration that flags read as a Go duration and JSON writes
// as milliseconds (a number).
type Millis time.Duration

// D is m as a time.Duration.
func (m Millis) D() time.Duration { return time.Duration(m) }

// MarshalJSON writes m in milliseconds, to the microsecond.
func (m Millis) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf("%.3f", float64(m)/float64(time.Millisecond))), nil
}

// String is m as a Go duration rounded to the millisecond (flag.Value).
func (m *Millis) String() string {
	if m == nil {
		return "0s"
	}
	return m.D().Round(time.Millisecond).String()
}

// Set parses a Go duration (flag.Value).
func (m *Millis) Set(s string) error {
	d, err := time.ParseDuration(s)
	*m = Millis(d)
	return err
}
