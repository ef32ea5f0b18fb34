package dns

import (
	"net/netip"
	"slices"
	"testing"

	mdns "github.com/miekg/dns"

	"github.com/lbtrust/lb/discovery"
)

func srv(prio, weight, port uint16, target string) *mdns.SRV {
	return &mdns.SRV{
		Hdr:      mdns.RR_Header{Name: "_http._tcp.web.test.", Rrtype: mdns.TypeSRV, Class: mdns.ClassINET, Ttl: 30},
		Priority: prio, Weight: weight, Port: port, Target: target,
	}
}

func ips(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func TestSRVTargets(t *testing.T) {
	addrs := map[string][]netip.Addr{
		"a.test.":    ips("127.0.0.2"),
		"b.test.":    ips("127.0.0.3"),
		"c.test.":    ips("127.0.0.4", "2001:db8::4"),
		"v6.test.":   ips("::1"),
		"m.test.":    ips("::ffff:127.0.0.9"),
		"same.test.": ips("127.0.0.2"),
		"dup.test.":  ips("127.0.0.5", "127.0.0.5"),
	}
	for _, tc := range []struct {
		name string
		recs []*mdns.SRV
		want []discovery.Target
	}{
		{"weights as they are", []*mdns.SRV{srv(1, 5, 8080, "a.test."), srv(1, 2, 8081, "b.test.")},
			[]discovery.Target{tg("127.0.0.2:8080", 5), tg("127.0.0.3:8081", 2)}},
		{"weight 0 is 1", []*mdns.SRV{srv(1, 0, 8080, "a.test.")},
			[]discovery.Target{tg("127.0.0.2:8080", 1)}},
		{"lowest priority value only", []*mdns.SRV{srv(20, 5, 80, "b.test."), srv(10, 3, 80, "a.test."), srv(30, 1, 80, "c.test.")},
			[]discovery.Target{tg("127.0.0.2:80", 3)}},
		{"several at the lowest priority", []*mdns.SRV{srv(10, 3, 80, "a.test."), srv(20, 5, 80, "b.test."), srv(10, 4, 81, "b.test.")},
			[]discovery.Target{tg("127.0.0.2:80", 3), tg("127.0.0.3:81", 4)}},
		{"a target with several addresses", []*mdns.SRV{srv(1, 7, 9000, "c.test.")},
			[]discovery.Target{tg("127.0.0.4:9000", 7), tg("[2001:db8::4]:9000", 7)}},
		{"IPv6 in brackets", []*mdns.SRV{srv(1, 1, 443, "v6.test.")},
			[]discovery.Target{tg("[::1]:443", 1)}},
		{"IPv4-mapped written as IPv4", []*mdns.SRV{srv(1, 1, 443, "m.test.")},
			[]discovery.Target{tg("127.0.0.9:443", 1)}},
		{"target names compare without case", []*mdns.SRV{srv(1, 1, 80, "A.Test.")},
			[]discovery.Target{tg("127.0.0.2:80", 1)}},
		{"one address from two records adds weights", []*mdns.SRV{srv(1, 2, 80, "a.test."), srv(1, 0, 80, "same.test.")},
			[]discovery.Target{tg("127.0.0.2:80", 3)}},
		{"an address listed twice for a target counts once", []*mdns.SRV{srv(1, 3, 80, "dup.test.")},
			[]discovery.Target{tg("127.0.0.5:80", 3)}},
		{"same host on two ports is two backends", []*mdns.SRV{srv(1, 2, 80, "a.test."), srv(1, 2, 81, "a.test.")},
			[]discovery.Target{tg("127.0.0.2:80", 2), tg("127.0.0.2:81", 2)}},
		{"a target without address gives nothing", []*mdns.SRV{srv(1, 1, 80, "gone.test."), srv(1, 1, 80, "a.test.")},
			[]discovery.Target{tg("127.0.0.2:80", 1)}},
		{"target . means no service", []*mdns.SRV{srv(0, 0, 0, ".")}, nil},
		{"target . at a lower priority is skipped", []*mdns.SRV{srv(0, 0, 0, "."), srv(5, 1, 80, "a.test.")},
			[]discovery.Target{tg("127.0.0.2:80", 1)}},
		{"no records", nil, nil},
	} {
		got := srvTargets(selectSRV(tc.recs), addrs)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestAddrTargets(t *testing.T) {
	for _, tc := range []struct {
		name string
		ips  []netip.Addr
		want []discovery.Target
	}{
		{"sorted, weight 1", ips("127.0.0.3", "127.0.0.2"), []discovery.Target{tg("127.0.0.2:8080", 1), tg("127.0.0.3:8080", 1)}},
		{"IPv6", ips("2001:db8::1", "127.0.0.2"), []discovery.Target{tg("127.0.0.2:8080", 1), tg("[2001:db8::1]:8080", 1)}},
		{"duplicates once", ips("127.0.0.2", "127.0.0.2"), []discovery.Target{tg("127.0.0.2:8080", 1)}},
		{"none", nil, []discovery.Target{}},
	} {
		if got := addrTargets(tc.ips, 8080); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestChanges(t *testing.T) {
	prev := []discovery.Target{tg("a:1", 1), tg("b:1", 2), tg("c:1", 1)}
	next := []discovery.Target{tg("b:1", 3), tg("c:1", 1), tg("d:1", 1), tg("e:1", 1)}
	if a, r, w := changes(prev, next); a != 2 || r != 1 || w != 1 {
		t.Errorf("changes = added %d, removed %d, reweighted %d; want 2, 1, 1", a, r, w)
	}
	if a, r, w := changes(nil, nil); a+r+w != 0 {
		t.Errorf("changes(nil, nil) = %d %d %d", a, r, w)
	}
}
