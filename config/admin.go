package config

import (
	"fmt"
	"math"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// decodeAdminBlock decodes the admin block with its shutdown timing, and
// reports shutdown_delay written together with an upstream_probe block.
func decodeAdminBlock(b *adminBlock) (*Admin, hcl.Diagnostics) {
	var diags, moreDiags hcl.Diagnostics
	a := &Admin{DeclRange: b.DeclRange}

	a.Address, moreDiags = requireText("admin block", "address", `"127.0.0.1:9901"`, b.Address, b.DeclRange)
	diags = append(diags, moreDiags...)
	if a.Address != "" {
		diags = append(diags, checkListenAddress(a.Address, b.Address.Range())...)
	}

	a.ShutdownDelay, moreDiags = decodeDelay("shutdown_delay", b.ShutdownDelay, DefaultShutdownDelay,
		"stop accepting as soon as SIGTERM arrives")
	diags = append(diags, moreDiags...)
	a.GracePeriod, moreDiags = decodeDuration("grace_period", b.GracePeriod, DefaultGracePeriod)
	diags = append(diags, moreDiags...)
	diags = append(diags, decodeAdminAccess(a, b)...)
	a.ReadyPools, moreDiags = decodeReadyPools(b.ReadyPools)
	diags = append(diags, moreDiags...)

	if b.UpstreamProbe != nil {
		a.UpstreamProbe, moreDiags = decodeUpstreamProbeBlock(b.UpstreamProbe)
		diags = append(diags, moreDiags...)
		if written(b.ShutdownDelay) {
			diags = append(diags, errorf(b.ShutdownDelay.Range(), "Conflicting shutdown delay",
				"shutdown_delay and the upstream_probe block at %s both set how long the listeners keep serving after SIGTERM; pick one: remove shutdown_delay to derive the delay from upstream_probe, or remove upstream_probe to give the delay directly.",
				lineOf(b.UpstreamProbe.DeclRange)))
		}
	}
	return a, diags
}

// decodeUpstreamProbeBlock decodes an upstream_probe block inside admin;
// both of its attributes are required.
func decodeUpstreamProbeBlock(b *upstreamProbeBlock) (*UpstreamProbe, hcl.Diagnostics) {
	var diags, moreDiags hcl.Diagnostics
	const what = "upstream_probe block"
	up := &UpstreamProbe{DeclRange: b.DeclRange}

	up.Interval, moreDiags = requireDuration(what, "interval",
		`"10s" (how often the load balancer in front probes /readyz)`, b.Interval, b.DeclRange)
	diags = append(diags, moreDiags...)
	up.UnhealthyThreshold, moreDiags = requireCount(what, "unhealthy_threshold",
		"3 (how many failed probes take this LB out of the tier in front)", b.UnhealthyThreshold, b.DeclRange, 1)
	diags = append(diags, moreDiags...)

	if up.Interval > 0 && up.UnhealthyThreshold > 0 {
		if _, ok := probeDelay(up.Interval, up.UnhealthyThreshold); !ok {
			diags = append(diags, errorf(b.UnhealthyThreshold.Range(), "Value out of range",
				"interval × (unhealthy_threshold + 1) = %s × %d is too long a shutdown delay to represent; lower interval or unhealthy_threshold.",
				up.Interval, up.UnhealthyThreshold+1))
		}
	}
	return up, diags
}

// probeDelay is the shutdown delay an upstream prober needs:
// interval × (threshold + 1), the time for threshold failed probes plus
// one interval of margin. ok is false when that overflows a
// time.Duration, and then the delay is the longest one there is.
func probeDelay(interval time.Duration, threshold int) (d time.Duration, ok bool) {
	n := int64(threshold)
	if interval > 0 && n >= 0 && (n == math.MaxInt64 || int64(interval) > math.MaxInt64/(n+1)) {
		return math.MaxInt64, false
	}
	return interval * time.Duration(n+1), true
}

// EffectiveShutdownDelay returns how long the listeners keep serving
// after SIGTERM while /readyz answers 503, and how that was derived, for
// the log line that announces it:
//
//   - with an upstream_probe block, interval × unhealthy_threshold plus one
//     interval of margin: "upstream_probe: 10s interval × 3
//     unhealthy_threshold + 10s margin = 40s";
//   - else a non-zero ShutdownDelay: "shutdown_delay = 5s";
//   - else the default, 0s: "default 0s".
//
// A nil *Admin (no admin block) gives 0 and "no admin block: default 0s".
func (a *Admin) EffectiveShutdownDelay() (d time.Duration, derivation string) {
	switch {
	case a == nil:
		return DefaultShutdownDelay, fmt.Sprintf("no admin block: default %s", DefaultShutdownDelay)
	case a.UpstreamProbe != nil:
		p := a.UpstreamProbe
		d, _ = probeDelay(p.Interval, p.UnhealthyThreshold)
		return d, fmt.Sprintf("upstream_probe: %s interval × %d unhealthy_threshold + %s margin = %s",
			p.Interval, p.UnhealthyThreshold, p.Interval, d)
	case a.ShutdownDelay != DefaultShutdownDelay:
		return a.ShutdownDelay, fmt.Sprintf("shutdown_delay = %s", a.ShutdownDelay)
	}
	return DefaultShutdownDelay, fmt.Sprintf("default %s", DefaultShutdownDelay)
}

// ShutdownTiming returns the LB's own shutdown sequence: how long the
// listeners keep serving after SIGTERM (see Admin.EffectiveShutdownDelay),
// how long in-flight requests may then take, and how both were derived,
// such as "shutdown_delay = 5s; grace_period = 45s" or
// "upstream_probe: ... = 40s; grace_period default 30s".
//
// It works without an admin block, since SIGTERM still has to be handled
// then: with no admin block there is no /readyz for a tier in front to
// watch, so the delay is 0s and the grace period its default, 30s:
// "no admin block: default 0s; grace_period default 30s".
func (c *Config) ShutdownTiming() (delay, grace time.Duration, derivation string) {
	delay, derivation = c.Admin.EffectiveShutdownDelay()
	grace = DefaultGracePeriod
	if c.Admin != nil {
		grace = c.Admin.GracePeriod
	}
	if grace == DefaultGracePeriod {
		return delay, grace, fmt.Sprintf("%s; grace_period default %s", derivation, grace)
	}
	return delay, grace, fmt.Sprintf("%s; grace_period = %s", derivation, grace)
}
