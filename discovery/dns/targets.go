package dns

import (
	"net"
	"net/netip"
	"strconv"
	"strings"

	mdns "github.com/miekg/dns"

	"github.com/lbtrust/lb/discovery"
)

// canonical is a name as compared: lower case, fully qualified.
func canonical(name string) string { return strings.ToLower(mdns.Fqdn(name)) }

// selectSRV keeps the records of the lowest priority value (RFC 2782:
// higher values are fallbacks) whose target is not "." (no service).
func selectSRV(recs []*mdns.SRV) []*mdns.SRV {
	var out []*mdns.SRV
	for _, r := range recs {
		if r.Target == "." || r.Target == "" {
			continue
		}
		switch {
		case len(out) == 0 || r.Priority == out[0].Priority:
			out = append(out, r)
		case r.Priority < out[0].Priority:
			out = append(out[:0], r)
		}
	}
	return out
}

// srvTargets maps the selected records recs to backends: each address of
// the record's target (addrs, by canonical name) on the record's port,
// with the record's weight (0 counts as 1); records giving one address
// add their weights. The result is normalized (discovery.Normalize).
func srvTargets(recs []*mdns.SRV, addrs map[string][]netip.Addr) []discovery.Target {
	var out []discovery.Target
	at := map[string]int{} // address -> index in out
	for _, r := range recs {
		w := max(int(r.Weight), 1)
		mine := map[string]bool{} // an address listed twice for one target counts once
		for _, ip := range addrs[canonical(r.Target)] {
			a := hostPort(ip, int(r.Port))
			if mine[a] {
				continue
			}
			mine[a] = true
			if i, ok := at[a]; ok {
				out[i].Weight += w
				continue
			}
			at[a] = len(out)
			out = append(out, discovery.Target{Address: a, Weight: w})
		}
	}
	return discovery.Normalize(out)
}

// addrTargets maps the addresses of an A lookup to backends on port, each
// of weight 1, normalized.
func addrTargets(ips []netip.Addr, port int) []discovery.Target {
	out := make([]discovery.Target, 0, len(ips))
	for _, ip := range ips {
		out = append(out, discovery.Target{Address: hostPort(ip, port), Weight: 1})
	}
	return discovery.Normalize(out)
}

// hostPort is "ip:port", an IPv6 address in brackets; an IPv4-mapped IPv6
// address is written as the IPv4 address it is.
func hostPort(ip netip.Addr, port int) string {
	return net.JoinHostPort(ip.Unmap().String(), strconv.Itoa(port))
}

// addrsOf are the A and AAAA records among rrs, as addresses, by owner
// (canonical name).
func addrsOf(rrs []mdns.RR) map[string][]netip.Addr {
	out := map[string][]netip.Addr{}
	for _, rr := range rrs {
		if ip, ok := addrOf(rr); ok {
			k := canonical(rr.Header().Name)
			out[k] = append(out[k], ip)
		}
	}
	return out
}

// addrOf is the address of an A or AAAA record.
func addrOf(rr mdns.RR) (netip.Addr, bool) {
	switch rr := rr.(type) {
	case *mdns.A:
		return netip.AddrFromSlice(rr.A.To4())
	case *mdns.AAAA:
		return netip.AddrFromSlice(rr.AAAA.To16())
	}
	return netip.Addr{}, false
}
