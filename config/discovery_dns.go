package config

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// DNSRecordTypes returns the valid values of a dns discovery block's
// "type", in a fresh slice the caller may keep.
func DNSRecordTypes() []string {
	return []string{DNSRecordSRV, DNSRecordA}
}

// dnsDiscoveryBlock is the body of a `discovery "dns"` block.
type dnsDiscoveryBlock struct {
	Name     hcl.Expression `hcl:"name,optional"`
	Type     hcl.Expression `hcl:"type,optional"`
	Port     hcl.Expression `hcl:"port,optional"`
	Resolver hcl.Expression `hcl:"resolver,optional"`
	Refresh  hcl.Expression `hcl:"refresh,optional"`
	Timeout  hcl.Expression `hcl:"timeout,optional"`
}

// dnsWhat names a dns discovery block in diagnostics.
const dnsWhat = `discovery "dns" block`

// decodeDNSDiscovery decodes the body of a discovery "dns" block declared
// at decl.
func decodeDNSDiscovery(b *dnsDiscoveryBlock, decl hcl.Range) (*DNSDiscovery, hcl.Diagnostics) {
	var diags, moreDiags hcl.Diagnostics
	d := &DNSDiscovery{}

	name, moreDiags := requireText(dnsWhat, "name", `"_http._tcp.web.service.internal"`, b.Name, decl)
	diags = append(diags, moreDiags...)
	if name != "" {
		norm, err := normalizeDNSName(name)
		if err != nil {
			diags = append(diags, errorf(b.Name.Range(), "Invalid DNS name",
				"%s. Write the name to look up, such as \"_http._tcp.web.service.internal\" (SRV) or \"web.internal\" (A and AAAA), with no scheme or port.", err))
		}
		d.Name = norm
	}

	d.Type, moreDiags = decodeDNSRecordType(b, d.Name)
	diags = append(diags, moreDiags...)
	d.Port, moreDiags = decodeDNSPort(b, d.Type, decl)
	diags = append(diags, moreDiags...)

	d.Resolver, moreDiags = decodeText("resolver", b.Resolver, "")
	diags = append(diags, moreDiags...)
	if d.Resolver != "" {
		canon, err := parseResolver(d.Resolver)
		if err != nil {
			diags = append(diags, errorf(b.Resolver.Range(), "Invalid resolver",
				"%s. Write the DNS server as IP:port, such as \"127.0.0.1:53\" or \"[::1]:8600\", or remove resolver to ask the first nameserver of /etc/resolv.conf.", err))
		}
		d.Resolver = canon
	}

	d.Refresh, moreDiags = decodeDNSRefresh(b.Refresh)
	diags = append(diags, moreDiags...)
	d.Timeout, moreDiags = decodeDuration("timeout", b.Timeout, DefaultDNSTimeout)
	diags = append(diags, moreDiags...)
	return d, diags
}

// decodeDNSRecordType decodes "type". Its default is srv when name (as
// normalized; "" when it did not decode) starts with "_", else a; with no
// valid name and no type written it returns "", so that no port check
// runs on a guess.
func decodeDNSRecordType(b *dnsDiscoveryBlock, name string) (string, hcl.Diagnostics) {
	def := ""
	switch {
	case strings.HasPrefix(name, "_"):
		def = DNSRecordSRV
	case name != "":
		def = DNSRecordA
	}
	typ, diags := decodeText("type", b.Type, def)
	switch typ {
	case "", DNSRecordSRV, DNSRecordA:
		return typ, diags
	}
	hint := ""
	switch strings.ToLower(typ) {
	case "aaaa":
		hint = ` "a" looks up both A and AAAA records.`
	case "a", "srv":
		hint = fmt.Sprintf(" Write it in lower case: type = %q.", strings.ToLower(typ))
	}
	return "", append(diags, errorf(b.Type.Range(), "Unknown DNS record type",
		"type = %q is not supported; use %q (host, port and weight per record) or %q (A and AAAA records, with port).%s",
		typ, DNSRecordSRV, DNSRecordA, hint))
}

// decodeDNSPort decodes "port" for record type typ: required for a,
// refused for srv, unchecked for "" (an invalid type, already reported).
func decodeDNSPort(b *dnsDiscoveryBlock, typ string, decl hcl.Range) (int, hcl.Diagnostics) {
	switch typ {
	case DNSRecordSRV:
		if !written(b.Port) {
			return 0, nil
		}
		why := "type = \"srv\""
		if !written(b.Type) {
			why = "type defaults to \"srv\" because name starts with \"_\""
		}
		return 0, hcl.Diagnostics{errorf(b.Port.Range(), "Attribute not used by this record type",
			"port only applies to type = %q, and %s: each SRV record carries its backend's port. Remove port, or set type = %q to look up the name's A and AAAA records and use port for every address.",
			DNSRecordA, why, DNSRecordA)}
	case DNSRecordA:
		if !written(b.Port) {
			return 0, hcl.Diagnostics{errorf(decl, "Missing required argument",
				"The %s looks up A and AAAA records, which carry no port: add port = 8080 (the backends' port), or look up SRV records with name = \"_http._tcp.web.service.internal\".",
				dnsWhat)}
		}
		return decodePort("port", b.Port, "")
	}
	return 0, nil
}

// decodeDNSRefresh decodes "refresh": absent is 0 (follow the TTL);
// written, it must lie in [DNSMinRefresh, DNSMaxRefresh]. It returns 0
// when the value is invalid.
func decodeDNSRefresh(expr hcl.Expression) (time.Duration, hcl.Diagnostics) {
	d, text, set, diags := parseDurationAttr("refresh", expr)
	if set && (d < DNSMinRefresh || d > DNSMaxRefresh) {
		return 0, append(diags, errorf(expr.Range(), "Value out of range",
			"refresh must be from %s to %s; it is %q. Remove it to follow each answer's TTL, clamped to that range.",
			DNSMinRefresh, DNSMaxRefresh, text))
	}
	return d, diags
}

// parseResolver checks that s is IP:port with a port in 1..65535 and
// returns it in netip.AddrPort's canonical form ("[::1]:53"). The host
// must be an IP address: a resolver's own name could not be looked up.
func parseResolver(s string) (string, error) {
	hp, err := parseHostPort(s)
	switch {
	case err != nil:
		return "", err
	case hp.host == "":
		return "", fmt.Errorf("%q has no host", s)
	case hp.port == 0:
		return "", fmt.Errorf("%q has port 0, outside 1..65535", s)
	}
	ip, err := netip.ParseAddr(hp.host)
	if err != nil {
		return "", fmt.Errorf("%q has host %q, which is not an IP address (the resolver's own name could not be looked up)", s, hp.host)
	}
	return netip.AddrPortFrom(ip, uint16(hp.port)).String(), nil
}

// maxDNSNameLength is the longest DNS name in presentation form, without
// the trailing dot (RFC 1035's 255 octets on the wire).
const maxDNSNameLength = 253

// normalizeDNSName lower-cases a DNS name and drops one trailing dot. It
// refuses an empty label, a label over 63 bytes, a name over 253 bytes, a
// character other than letters, digits, "-" and "_", and an IP address.
func normalizeDNSName(n string) (string, error) {
	s := strings.TrimSuffix(strings.ToLower(n), ".")
	switch {
	case s == "":
		return "", fmt.Errorf("%q is not a DNS name", n)
	case len(s) > maxDNSNameLength:
		return "", fmt.Errorf("%q is %d bytes long, more than the %d a DNS name may have", n, len(s), maxDNSNameLength)
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return "", fmt.Errorf("%q is an IP address, not a name: use a backend block for a fixed address", n)
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return "", fmt.Errorf("%q has an empty or over-long label", n)
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", fmt.Errorf("%q has the character %q, not allowed in a DNS name", n, c)
			}
		}
	}
	return s, nil
}
