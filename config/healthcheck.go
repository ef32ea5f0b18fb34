package config

import (
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// decodeHealthCheckBlock decodes a pool's health_check block; b is nil
// when the pool has none, which gives every default.
func decodeHealthCheckBlock(b *healthCheckBlock) (HealthCheck, hcl.Diagnostics) {
	if b == nil {
		return defaultHealthCheck(), nil
	}
	var diags, moreDiags hcl.Diagnostics
	hc := HealthCheck{DeclRange: b.DeclRange}

	hc.Type, moreDiags = decodeText("type", b.Type, DefaultHealthCheckType)
	diags = append(diags, moreDiags...)
	if hc.Type != "" && !slices.Contains(HealthCheckTypes(), hc.Type) {
		diags = append(diags, errorf(b.Type.Range(), "Unknown health check type",
			"type = %q is not supported; use one of %s.", hc.Type, strings.Join(HealthCheckTypes(), ", ")))
	}

	isGRPC := hc.Type == HealthCheckGRPC
	if isGRPC {
		diags = append(diags, httpOnly(b)...)
	} else {
		hc.Path, moreDiags = decodeText("path", b.Path, DefaultHealthCheckPath)
		diags = append(diags, moreDiags...)
		if hc.Path != "" && !strings.HasPrefix(hc.Path, "/") {
			diags = append(diags, errorf(b.Path.Range(), "Invalid path",
				"path = %q must start with \"/\", such as \"/readyz\".", hc.Path))
		}
	}

	service, set, moreDiags := decodeValue[string](b.GRPCService)
	diags = append(diags, moreDiags...)
	if set && !isGRPC && slices.Contains(HealthCheckTypes(), hc.Type) {
		diags = append(diags, errorf(b.GRPCService.Range(), "Attribute not used by this check type",
			"grpc_service only applies to type = %q; this check is type = %q. Set type = %q to call the gRPC health service, or remove grpc_service.",
			HealthCheckGRPC, hc.Type, HealthCheckGRPC))
	} else if set {
		hc.GRPCService = service
	}

	hc.ReuseConnection, moreDiags = decodeFlag(b.ReuseConnection, hc.Type != HealthCheckTCP && !isGRPC)
	diags = append(diags, moreDiags...)
	if written(b.ReuseConnection) && (isGRPC || hc.Type == HealthCheckTCP) {
		diags = append(diags, errorf(b.ReuseConnection.Range(), "Attribute not used by this check type",
			"reuse_connection only applies to type = %q: a tcp check exists to open a connection, and a grpc check always keeps its HTTP/2 connection (replacing it when a probe fails). Remove reuse_connection.",
			HealthCheckHTTP))
	}

	hc.Host, moreDiags = decodeText("host", b.Host, "")
	diags = append(diags, moreDiags...)

	hc.Port, moreDiags = decodePort("port", b.Port, " Remove it to probe each backend on its own port.")
	diags = append(diags, moreDiags...)

	hc.Interval, moreDiags = decodeDuration("interval", b.Interval, DefaultInterval)
	diags = append(diags, moreDiags...)
	hc.Timeout, moreDiags = decodeDuration("timeout", b.Timeout, DefaultTimeout)
	diags = append(diags, moreDiags...)
	if hc.Interval > 0 && hc.Timeout > 0 && hc.Timeout >= hc.Interval {
		diags = append(diags, timeoutNotShorter(b, hc))
	}

	hc.HealthyThreshold, moreDiags = decodeCount("healthy_threshold", b.HealthyThreshold, DefaultHealthyThreshold, 1)
	diags = append(diags, moreDiags...)
	hc.UnhealthyThreshold, moreDiags = decodeCount("unhealthy_threshold", b.UnhealthyThreshold, DefaultUnhealthyThreshold, 1)
	diags = append(diags, moreDiags...)

	if isGRPC {
		return hc, diags
	}
	hc.ExpectedStatusText, moreDiags = decodeText("expected_status", b.ExpectedStatus, DefaultExpectedStatus)
	diags = append(diags, moreDiags...)
	if hc.ExpectedStatusText != "" {
		ranges, err := ParseStatusRanges(hc.ExpectedStatusText)
		if err != nil {
			diags = append(diags, errorf(b.ExpectedStatus.Range(), "Invalid expected_status",
				"%s. Write status codes and inclusive ranges from 100 to 599, separated by commas, such as \"200\", \"200,202\" or \"200-299\".", err))
		}
		hc.ExpectedStatus = ranges
	}
	return hc, diags
}

// defaultHealthCheck is the check of a pool without a health_check block.
func defaultHealthCheck() HealthCheck {
	return HealthCheck{
		Type:               DefaultHealthCheckType,
		Path:               DefaultHealthCheckPath,
		ReuseConnection:    true,
		Interval:           DefaultInterval,
		Timeout:            DefaultTimeout,
		HealthyThreshold:   DefaultHealthyThreshold,
		UnhealthyThreshold: DefaultUnhealthyThreshold,
		ExpectedStatus:     []StatusRange{{Min: 200, Max: 200}},
		ExpectedStatusText: DefaultExpectedStatus,
	}
}

// httpOnly reports the attributes of a grpc check that only HTTP checks use
// (path, expected_status), one diagnostic each, at its value.
func httpOnly(b *healthCheckBlock) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if written(b.Path) {
		diags = append(diags, errorf(b.Path.Range(), "Attribute not used by this check type",
			"path only applies to type = %q: a grpc check calls grpc.health.v1.Health/Check, it requests no path. Remove path; to check one service rather than the whole server, set grpc_service, such as grpc_service = \"mypackage.MyService\".",
			HealthCheckHTTP))
	}
	if written(b.ExpectedStatus) {
		diags = append(diags, errorf(b.ExpectedStatus.Range(), "Attribute not used by this check type",
			"expected_status only applies to type = %q: a grpc check passes on SERVING, takes the backend out at once on NOT_SERVING, and counts any other answer as a failure. Remove expected_status.",
			HealthCheckHTTP))
	}
	return diags
}

// timeoutNotShorter reports a probe timeout that is not shorter than the
// interval. It points at timeout when it is written, else at interval,
// since then the default timeout is what collides with it.
func timeoutNotShorter(b *healthCheckBlock, hc HealthCheck) *hcl.Diagnostic {
	suggest := (hc.Interval / 2).String()
	if !written(b.Timeout) {
		return errorf(b.Interval.Range(), "Timeout not shorter than interval",
			"timeout defaults to %s, which is not shorter than interval (%s); a probe must end before the next one starts: add a shorter timeout, such as timeout = %q.",
			DefaultTimeout, hc.Interval, suggest)
	}
	return errorf(b.Timeout.Range(), "Timeout not shorter than interval",
		"timeout (%s) is not shorter than interval (%s); a probe must end before the next one starts: lower timeout, such as timeout = %q.",
		hc.Timeout, hc.Interval, suggest)
}
