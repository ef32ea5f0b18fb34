package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// decodePoolBlock decodes a pool block with its health check, backends
// and discovery blocks, and reports a backend declared twice in it. A
// pool needs a backend block or a discovery block.
func decodePoolBlock(b *poolBlock) (*Pool, hcl.Diagnostics) {
	var diags, moreDiags hcl.Diagnostics
	p := &Pool{Name: b.Name, DeclRange: b.DeclRange}

	if b.Name == "" {
		diags = append(diags, errorf(b.NameRange, "Invalid pool name",
			"A pool needs a non-empty name, such as pool \"web\"."))
	}

	p.Algorithm, moreDiags = decodeText("algorithm", b.Algorithm, DefaultAlgorithm)
	diags = append(diags, moreDiags...)
	if p.Algorithm != "" && !slices.Contains(Algorithms(), p.Algorithm) {
		diags = append(diags, errorf(b.Algorithm.Range(), "Unknown algorithm",
			"algorithm = %q is not supported; use one of %s.", p.Algorithm, strings.Join(Algorithms(), ", ")))
	}

	diags = append(diags, decodePoolTimeouts(b, p)...)
	p.ConnectTimeout, moreDiags = decodeDuration("connect_timeout", b.ConnectTimeout, DefaultConnectTimeout)
	diags = append(diags, moreDiags...)
	p.IdleConnTimeout, moreDiags = decodeDuration("idle_conn_timeout", b.IdleConnTimeout, DefaultIdleConnTimeout)
	diags = append(diags, moreDiags...)
	p.MaxConnsPerBackend, moreDiags = decodeCount("max_conns_per_backend", b.MaxConnsPerBackend, DefaultMaxConnsPerBackend, 1)
	diags = append(diags, moreDiags...)
	p.DeregistrationDelay, moreDiags = decodeDelay("deregistration_delay", b.DeregistrationDelay, DefaultDeregistrationDelay,
		"cancel a draining backend's requests at once")
	diags = append(diags, moreDiags...)

	p.WhenAllUnhealthy, p.PanicThreshold, moreDiags = decodeUnhealthyPolicy(b)
	diags = append(diags, moreDiags...)
	p.SlowStart, moreDiags = decodeDelay("slow_start", b.SlowStart, DefaultSlowStart, "turn slow start off")
	diags = append(diags, moreDiags...)
	p.SilentAfter, moreDiags = decodeSilentAfter(b.SilentAfter)
	diags = append(diags, moreDiags...)

	p.HealthCheck, moreDiags = decodeHealthCheckBlock(b.HealthCheck)
	diags = append(diags, moreDiags...)
	p.Retry, moreDiags = decodeRetryBlock(b.Retry, p, b)
	diags = append(diags, moreDiags...)
	p.Passive, moreDiags = decodePassiveBlock(b.Passive)
	diags = append(diags, moreDiags...)
	p.TLS, moreDiags = decodeBackendTLSBlock(b.TLS)
	diags = append(diags, moreDiags...)
	p.Hash, moreDiags = decodeHashBlock(b.Hash, p.Algorithm)
	diags = append(diags, moreDiags...)
	p.Sticky, moreDiags = decodeStickyBlock(b.Sticky, b.Name)
	diags = append(diags, moreDiags...)

	p.Discovery, moreDiags = decodeDiscoveryBlocks(b.Discovery, b.Name)
	diags = append(diags, moreDiags...)
	if len(b.Backends) == 0 && len(b.Discovery) == 0 {
		diags = append(diags, errorf(b.DeclRange, "Pool has no backends",
			"Pool %q needs at least one backend block, such as backend \"127.0.0.1:9001\" {}, or a discovery block to find them, such as discovery \"dns\" { name = \"_http._tcp.web.service.internal\" }.", b.Name))
	}
	seen := make(map[string]*backendBlock, len(b.Backends))
	for _, bb := range b.Backends {
		be, addr, moreDiags := decodeBackendBlock(bb)
		diags = append(diags, moreDiags...)
		p.Backends = append(p.Backends, be)
		if addr == nil {
			continue
		}
		first, dup := seen[addr.key()]
		if !dup {
			seen[addr.key()] = bb
			continue
		}
		prior := fmt.Sprintf("is already declared at %s", lineOf(first.DeclRange))
		if first.Address != bb.Address {
			prior = fmt.Sprintf("is the same address as backend %q at %s", first.Address, lineOf(first.DeclRange))
		}
		diags = append(diags, errorf(bb.AddressRange, "Duplicate backend",
			"Backend %q %s in pool %q; remove one of them (use weight to give a backend a larger share).",
			bb.Address, prior, b.Name))
	}
	return p, diags
}

// decodePoolTimeouts decodes a pool's answer timeouts into p:
// response_timeout (default none), header_timeout (default
// DefaultHeaderTimeout, or response_timeout when only that is written,
// so an older file keeps its meaning) and body_idle_timeout (default
// DefaultBodyIdleTimeout). A written header_timeout longer than a
// written response_timeout is an error, since the header is part of the
// answer; a written body_idle_timeout longer than it is a warning, since
// it can never be reached. An invalid value is left 0 with its
// diagnostic.
func decodePoolTimeouts(b *poolBlock, p *Pool) hcl.Diagnostics {
	var diags, moreDiags hcl.Diagnostics

	p.ResponseTimeout, moreDiags = decodeResponseTimeout(b.ResponseTimeout)
	diags = append(diags, moreDiags...)

	hdrDef := DefaultHeaderTimeout
	if p.ResponseTimeout > 0 {
		hdrDef = p.ResponseTimeout
	}
	p.HeaderTimeout, moreDiags = decodeDuration("header_timeout", b.HeaderTimeout, hdrDef)
	diags = append(diags, moreDiags...)
	p.BodyIdleTimeout, moreDiags = decodeDuration("body_idle_timeout", b.BodyIdleTimeout, DefaultBodyIdleTimeout)
	diags = append(diags, moreDiags...)

	rt := p.ResponseTimeout
	if rt <= 0 { // none, or invalid and already reported
		return diags
	}
	at := lineOf(b.ResponseTimeout.Range())
	if written(b.HeaderTimeout) && p.HeaderTimeout > rt {
		diags = append(diags, errorf(b.HeaderTimeout.Range(), "Header timeout longer than response timeout",
			"header_timeout (%s) is longer than response_timeout (%s) at %s, which bounds the whole answer, header included, so the header could never take that long: make header_timeout at most %s, or raise response_timeout, or remove response_timeout for no limit on the whole answer.",
			p.HeaderTimeout, rt, at, rt))
	}
	if written(b.BodyIdleTimeout) && p.BodyIdleTimeout > rt {
		diags = append(diags, warnf(b.BodyIdleTimeout.Range(), "Body idle timeout longer than response timeout",
			"body_idle_timeout (%s) can never be reached: response_timeout (%s) at %s cuts the whole answer first. Make body_idle_timeout at most %s, or remove response_timeout for no limit on the whole answer (as a streaming pool should).",
			p.BodyIdleTimeout, rt, at, rt))
	}
	return diags
}

// decodeResponseTimeout decodes response_timeout: absent is 0, no limit
// on the whole answer; written, it must be longer than zero. It returns
// 0 when the value is invalid.
func decodeResponseTimeout(expr hcl.Expression) (time.Duration, hcl.Diagnostics) {
	d, text, set, diags := parseDurationAttr("response_timeout", expr)
	if set && d <= 0 {
		return 0, append(diags, errorf(expr.Range(), "Invalid duration",
			"response_timeout must be longer than zero; it is %q. Remove it for no limit on the whole answer (the default; header_timeout and body_idle_timeout still bound a backend that stalls).",
			text))
	}
	return d, diags
}

// decodeUnhealthyPolicy decodes when_all_unhealthy and panic_threshold.
// With "fail_closed" panic routing is off: panic_threshold defaults to 0
// there, and a non-zero one is reported, since panic routing would send
// requests to the unhealthy backends that mode promises to avoid.
func decodeUnhealthyPolicy(b *poolBlock) (mode string, panicThreshold int, diags hcl.Diagnostics) {
	mode, diags = decodeText("when_all_unhealthy", b.WhenAllUnhealthy, DefaultWhenAllUnhealthy)
	if mode != "" && !slices.Contains(WhenAllUnhealthyModes(), mode) {
		diags = append(diags, errorf(b.WhenAllUnhealthy.Range(), "Unknown when_all_unhealthy mode",
			"when_all_unhealthy = %q is not supported; use one of %s.", mode, strings.Join(WhenAllUnhealthyModes(), ", ")))
	}

	def := DefaultPanicThreshold
	if mode == WhenAllUnhealthyFailClosed {
		def = 0
	}
	panicThreshold, moreDiags := decodeIntIn("panic_threshold", b.PanicThreshold, def, 0, 100)
	diags = append(diags, moreDiags...)
	if mode == WhenAllUnhealthyFailClosed && panicThreshold > 0 {
		diags = append(diags, errorf(b.PanicThreshold.Range(), "Conflicting unhealthy policy",
			"panic_threshold = %d would route across unhealthy backends, which when_all_unhealthy = %q at %s promises never to do; remove panic_threshold (it is 0 in that mode), or use %q.",
			panicThreshold, mode, lineOf(b.WhenAllUnhealthy.Range()), WhenAllUnhealthyFailOpen))
		panicThreshold = 0
	}
	return mode, panicThreshold, diags
}

// decodeSilentAfter decodes silent_after: "auto" (the default,
// SilentAfterAuto), "off" (SilentAfterOff) or a positive duration. It
// returns SilentAfterAuto when the value is invalid.
func decodeSilentAfter(expr hcl.Expression) (time.Duration, hcl.Diagnostics) {
	text, set, diags := decodeValue[string](expr)
	if !set {
		return DefaultSilentAfter, diags
	}
	switch text {
	case "auto":
		return SilentAfterAuto, diags
	case "off":
		return SilentAfterOff, diags
	}
	d, err := time.ParseDuration(text)
	switch {
	case err != nil:
		return SilentAfterAuto, append(diags, errorf(expr.Range(), "Invalid silent_after",
			"silent_after = %q is not \"auto\", \"off\" or a duration: write \"auto\" to derive it from the pool's latency (%d × p99, at least %s), \"off\" to turn silent detection off, or a duration such as \"200ms\".",
			text, SilentAfterAutoMultiplier, SilentAfterFloor))
	case d <= 0:
		return SilentAfterAuto, append(diags, errorf(expr.Range(), "Invalid silent_after",
			"silent_after must be longer than zero; it is %q. Write \"off\" to turn silent detection off, or remove it to use the default, \"auto\".",
			text))
	}
	return d, diags
}

// decodeBackendBlock decodes a backend block. It also returns the parsed
// address, or nil when the address is invalid.
func decodeBackendBlock(b *backendBlock) (*Backend, *hostPort, hcl.Diagnostics) {
	var diags, moreDiags hcl.Diagnostics
	be := &Backend{Address: b.Address, DeclRange: b.DeclRange}

	addr, err := parseHostPort(b.Address)
	switch {
	case err != nil:
	case addr.host == "":
		err = fmt.Errorf("%q has no host", b.Address)
	case addr.port == 0:
		err = fmt.Errorf("%q has port 0, outside 1..65535", b.Address)
	}
	if err != nil {
		diags = append(diags, errorf(b.AddressRange, "Invalid backend address",
			"%s. Write the backend as host:port with a numeric port, such as \"10.0.0.1:8080\" or \"[::1]:8080\", with no scheme or path.", err))
	}

	be.Weight, moreDiags = decodeCount("weight", b.Weight, DefaultWeight, 1)
	diags = append(diags, moreDiags...)
	if err != nil {
		return be, nil, diags
	}
	return be, &addr, diags
}
