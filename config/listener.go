package config

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// decodeListenerBlock decodes a listener block and its routes. Whether
// the pools it names exist is checked by validateFile.
func decodeListenerBlock(b *listenerBlock) (*Listener, hcl.Diagnostics) {
	var diags, moreDiags hcl.Diagnostics
	l := &Listener{Name: b.Name, DeclRange: b.DeclRange}
	what := fmt.Sprintf("listener %q", b.Name)

	if b.Name == "" {
		diags = append(diags, errorf(b.NameRange, "Invalid listener name",
			"A listener needs a non-empty name, such as listener \"public\"."))
	}

	l.Address, moreDiags = requireText(what, "address", `"127.0.0.1:8080"`, b.Address, b.DeclRange)
	diags = append(diags, moreDiags...)
	if l.Address != "" {
		diags = append(diags, checkListenAddress(l.Address, b.Address.Range())...)
	}

	l.Redirect, moreDiags = decodeRedirect(b)
	diags = append(diags, moreDiags...)
	l.TLS, moreDiags = decodeListenerTLSBlock(b.TLS)
	diags = append(diags, moreDiags...)
	l.AccessLog, moreDiags = decodeAccessLogBlock(b.AccessLog)
	diags = append(diags, moreDiags...)

	if l.Redirect != nil {
		// A redirecting listener forwards nothing: pool is optional.
		l.Pool, moreDiags = decodeText("pool", b.Pool, "")
	} else {
		l.Pool, moreDiags = requireText(what, "pool", `"NAME" (the pool for requests no route takes)`, b.Pool, b.DeclRange)
	}
	diags = append(diags, moreDiags...)

	l.ReadTimeout, moreDiags = decodeDuration("read_timeout", b.ReadTimeout, DefaultReadTimeout)
	diags = append(diags, moreDiags...)
	l.WriteTimeout, moreDiags = decodeDuration("write_timeout", b.WriteTimeout, DefaultWriteTimeout)
	diags = append(diags, moreDiags...)
	l.IdleTimeout, moreDiags = decodeDuration("idle_timeout", b.IdleTimeout, DefaultIdleTimeout)
	diags = append(diags, moreDiags...)
	l.MaxRequestBodySize, moreDiags = decodeCount("max_request_body_size", b.MaxRequestBodySize, DefaultMaxRequestBodySize, 1)
	diags = append(diags, moreDiags...)

	l.TrustedProxies, moreDiags = decodeTrustedProxies(b.TrustedProxies)
	diags = append(diags, moreDiags...)

	diags = append(diags, decodeListenerLimits(b, l)...)

	for _, rb := range b.Routes {
		r, moreDiags := decodeRouteBlock(rb)
		diags = append(diags, moreDiags...)
		l.Routes = append(l.Routes, r)
	}
	return l, diags
}

// decodeRouteBlock decodes a route block inside a listener. Whether the
// pool it names exists is checked by validateFile.
func decodeRouteBlock(b *routeBlock) (*Route, hcl.Diagnostics) {
	var diags, moreDiags hcl.Diagnostics
	r := &Route{DeclRange: b.DeclRange}

	r.Host, moreDiags = decodeText("host", b.Host, "")
	diags = append(diags, moreDiags...)
	if strings.ContainsAny(r.Host, " \t/") {
		diags = append(diags, errorf(b.Host.Range(), "Invalid host",
			"host = %q is not a host name: write the name clients send in the Host header, such as \"api.example.com\", with no scheme or path.", r.Host))
	}

	r.PathPrefix, moreDiags = decodeText("path_prefix", b.PathPrefix, "")
	diags = append(diags, moreDiags...)
	if r.PathPrefix != "" && !strings.HasPrefix(r.PathPrefix, "/") {
		diags = append(diags, errorf(b.PathPrefix.Range(), "Invalid path_prefix",
			"path_prefix = %q must start with \"/\", such as \"/api/\".", r.PathPrefix))
	}

	if !written(b.Host) && !written(b.PathPrefix) {
		diags = append(diags, errorf(b.DeclRange, "Route matches nothing",
			"A route needs host, path_prefix or both to say which requests it takes; requests that no route takes go to the listener's pool."))
	}

	r.Pool, moreDiags = requireText("route", "pool", `"NAME" (the pool for the requests it takes)`, b.Pool, b.DeclRange)
	diags = append(diags, moreDiags...)
	return r, diags
}

// checkListenAddress checks an admin or listener address: host:port with
// a numeric port in 0..65535; the host may be empty for every interface.
func checkListenAddress(addr string, rng hcl.Range) hcl.Diagnostics {
	if _, err := parseHostPort(addr); err != nil {
		return hcl.Diagnostics{errorf(rng, "Invalid address",
			"%s. Write host:port to listen on, such as \"127.0.0.1:8080\", or \":8080\" for every interface.", err)}
	}
	return nil
}

// decodeTrustedProxies decodes trusted_proxies: a list of CIDRs
// ("10.0.0.0/8") or single IPs ("127.0.0.1", a /32; an IPv6 one is a
// /128). A problem with one element points at that element. Absent or
// empty trusts nobody (nil); invalid gives nil with the diagnostics.
func decodeTrustedProxies(expr hcl.Expression) ([]netip.Prefix, hcl.Diagnostics) {
	list, set, diags := decodeValue[[]string](expr)
	if diags.HasErrors() || !set || len(list) == 0 {
		return nil, diags
	}
	at := elemRanges(expr, len(list))
	out := make([]netip.Prefix, 0, len(list))
	for i, s := range list {
		p, err := parseTrustedProxy(s)
		if err != nil {
			diags = append(diags, errorf(at(i), "Invalid trusted proxy",
				"%q is not an IP address or CIDR: write one such as \"10.0.0.0/8\", \"192.0.2.10\" or \"2001:db8::/32\".", s))
			continue
		}
		out = append(out, p)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return out, diags
}

// parseTrustedProxy parses one trusted_proxies entry into a masked prefix.
// IPv4-mapped IPv6 addresses are taken in their IPv4 form; zones are
// refused.
func parseTrustedProxy(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("zone not allowed")
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
