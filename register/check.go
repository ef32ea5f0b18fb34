package register

import (
	"context"
	"fmt"
	"net/url"

	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/healthcheck"
)

// checker probes the backend's readiness URL with the health checker the
// load balancer itself uses, expecting any 2xx.
type checker struct {
	c *healthcheck.Checker
}

// noReports is the Reporter a checker needs but that Probe never calls.
type noReports struct{}

func (noReports) ObserveCheck(healthcheck.Result) {}

// newChecker builds the probe of cfg.Check (cfg with defaults applied,
// Check not empty).
func newChecker(cfg Config) (*checker, error) {
	addr, target, err := checkTarget(cfg.Check)
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(cfg.Check)
	spec := healthcheck.Spec{
		Type:            healthcheck.TypeHTTP,
		Path:            target,
		Host:            u.Host,
		FreshConnection: true,
		Interval:        cfg.CheckInterval,
		Timeout:         min(MaxCheckTimeout, cfg.CheckInterval/2),
		ExpectedStatus:  []config.StatusRange{{Min: 200, Max: 299}},
		TLS:             checkTLS(cfg.Check),
	}
	c, err := healthcheck.New(spec, addr, noReports{}, nil)
	if err != nil {
		return nil, fmt.Errorf("check %q: %w", cfg.Check, err)
	}
	return &checker{c: c}, nil
}

// probe checks once.
func (c *checker) probe(ctx context.Context) healthcheck.Result {
	return c.c.Probe(ctx)
}
