package server

import (
	"github.com/lbtrust/lb/balancer"
	"reflect"
	"testing"

	"github.com/lbtrust/lb/config"
	etcddiscovery "github.com/lbtrust/lb/discovery/etcd"
	"github.com/lbtrust/lb/discovery/etcdvalue"
	"github.com/lbtrust/lb/healthcheck"
	"github.com/lbtrust/lb/pool"
	"github.com/lbtrust/lb/proxy"
)

// TestRuntimeDefaultsMatchConfig: config is the one source of truth for
// defaults. The runtime packages cannot import it (only server reads
// config), so each default or fixed value they restate for their zero
// values is held here to config's: a change on one side alone fails.
func TestRuntimeDefaultsMatchConfig(t *testing.T) {
	expected, err := config.ParseStatusRanges(config.DefaultExpectedStatus)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name          string
		runtime, conf any
	}{
		// balancer and proxy: consistent hashing and sticky sessions.
		{"balancer.DefaultLoadFactor", balancer.DefaultLoadFactor, config.DefaultLoadFactor},
		{"proxy.MinStickyKey", proxy.MinStickyKey, config.MinStickyKeyBytes},
		// proxy: a listener's ServerOptions.
		{"proxy.DefaultReadTimeout", proxy.DefaultReadTimeout, config.DefaultReadTimeout},
		{"proxy.DefaultWriteTimeout", proxy.DefaultWriteTimeout, config.DefaultWriteTimeout},
		{"proxy.DefaultIdleTimeout", proxy.DefaultIdleTimeout, config.DefaultIdleTimeout},
		{"proxy.DefaultMaxRequestBodySize", proxy.DefaultMaxRequestBodySize, config.DefaultMaxRequestBodySize},
		{"proxy.DefaultReadHeaderTimeout", proxy.DefaultReadHeaderTimeout, config.DefaultReadHeaderTimeout},
		{"proxy.DefaultMaxHeaderBytes", proxy.DefaultMaxHeaderBytes, config.DefaultMaxHeaderBytes},
		{"proxy.DefaultMaxHeaderCount", proxy.DefaultMaxHeaderCount, config.DefaultMaxHeaderCount},
		{"proxy.DefaultMaxURILength", proxy.DefaultMaxURILength, config.DefaultMaxURILength},
		{"proxy.DefaultMaxConnections", proxy.DefaultMaxConnections, config.DefaultMaxConnections},
		{"proxy.DefaultRequestBufferSize", proxy.DefaultRequestBufferSize, config.DefaultRequestBufferSize},
		// proxy: a backend's ClientOptions.
		{"proxy.DefaultConnectTimeout", proxy.DefaultConnectTimeout, config.DefaultConnectTimeout},
		{"proxy.DefaultIdleConnTimeout", proxy.DefaultIdleConnTimeout, config.DefaultIdleConnTimeout},
		{"proxy.DefaultMaxConns", proxy.DefaultMaxConns, config.DefaultMaxConnsPerBackend},
		// proxy: an Upstream's timeouts and RetryPolicy.
		{"proxy.DefaultHeaderTimeout", proxy.DefaultHeaderTimeout, config.DefaultHeaderTimeout},
		{"proxy.DefaultBodyIdleTimeout", proxy.DefaultBodyIdleTimeout, config.DefaultBodyIdleTimeout},
		{"proxy.DefaultRetryAttempts", proxy.DefaultRetryAttempts, config.DefaultRetryAttempts},
		{"proxy.DefaultRetryBudgetPercent", proxy.DefaultRetryBudgetPercent, config.DefaultRetryBudgetPercent},
		{"proxy.DefaultRetryOn", proxy.DefaultRetryOn(), config.DefaultRetryConditions()},
		{"proxy.RetryBudgetMinPerSecond", proxy.RetryBudgetMinPerSecond, config.RetryBudgetMinPerSecond},
		// pool: Thresholds, Passive, silent detection, slow start.
		{"pool.DefaultHealthyThreshold", pool.DefaultHealthyThreshold, config.DefaultHealthyThreshold},
		{"pool.DefaultUnhealthyThreshold", pool.DefaultUnhealthyThreshold, config.DefaultUnhealthyThreshold},
		{"pool.DefaultConsecutiveFailures", pool.DefaultConsecutiveFailures, config.DefaultConsecutiveFailures},
		{"pool.DefaultConsecutiveTimeouts", pool.DefaultConsecutiveTimeouts, config.DefaultConsecutiveTimeouts},
		{"pool.DefaultBaseEjection", pool.DefaultBaseEjection, config.DefaultBaseEjection},
		{"pool.DefaultMaxEjection", pool.DefaultMaxEjection, config.DefaultMaxEjection},
		{"pool.SilentAfterFloor", pool.SilentAfterFloor, config.SilentAfterFloor},
		{"pool.SilentAfterMultiplier", pool.SilentAfterMultiplier, config.SilentAfterAutoMultiplier},
		{"pool.SlowStartInitialPercent", pool.SlowStartInitialPercent, config.SlowStartInitialPercent},
		// healthcheck: a Spec's zero fields, and the probe types.
		{"healthcheck.DefaultPath", healthcheck.DefaultPath, config.DefaultHealthCheckPath},
		{"healthcheck.DefaultInterval", healthcheck.DefaultInterval, config.DefaultInterval},
		{"healthcheck.DefaultTimeout", healthcheck.DefaultTimeout, config.DefaultTimeout},
		{"healthcheck.DefaultStatus", []config.StatusRange{{Min: healthcheck.DefaultStatus, Max: healthcheck.DefaultStatus}}, expected},
		{"healthcheck.TypeHTTP (Spec.Type \"\")", healthcheck.TypeHTTP, config.DefaultHealthCheckType},
		{"healthcheck.TypeHTTP", healthcheck.TypeHTTP, config.HealthCheckHTTP},
		{"healthcheck.TypeTCP", healthcheck.TypeTCP, config.HealthCheckTCP},
		{"healthcheck.TypeGRPC", healthcheck.TypeGRPC, config.HealthCheckGRPC},
		// discovery/etcd: a Config's zero DialTimeout, a value's weight.
		{"etcd.DefaultDialTimeout", etcddiscovery.DefaultDialTimeout, config.DefaultEtcdDialTimeout},
		{"etcdvalue.DefaultWeight", etcdvalue.DefaultWeight, config.DefaultWeight},
	} {
		if !reflect.DeepEqual(tc.runtime, tc.conf) {
			t.Errorf("%s = %v (%T), config's is %v (%T)", tc.name, tc.runtime, tc.runtime, tc.conf, tc.conf)
		}
	}
}
