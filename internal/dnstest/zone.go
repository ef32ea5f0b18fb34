package dnstest

import (
	"net/netip"
	"strings"

	mdns "github.com/miekg/dns"
)

// Mode is how the server answers a name, whatever records it has.
type Mode int

// The modes a name can be in.
const (
	// Answer serves the name's records: NOERROR with the records of the
	// type asked, NOERROR with no answer when it has records of other
	// types only, NXDOMAIN when it has none at all. The default.
	Answer Mode = iota
	// NXDomain answers NXDOMAIN (rcode 3), with the SOA of SetNegativeTTL
	// if set.
	NXDomain
	// NoData answers NOERROR with an empty answer section, with the SOA
	// of SetNegativeTTL if set.
	NoData
	// ServFail answers SERVFAIL (rcode 2).
	ServFail
	// Refused answers REFUSED (rcode 5).
	Refused
	// Drop sends no answer at all: the client times out.
	Drop
)

// SRV is one SRV record of a name.
type SRV struct {
	Priority, Weight, Port uint16
	// Target is the host name the record points to; a trailing dot is
	// optional.
	Target string
	// TTL is the record's TTL in seconds.
	TTL uint32
}

// entry is what the zone holds for one name.
type entry struct {
	srv      []mdns.RR
	a, aaaa  []mdns.RR
	mode     Mode
	glue     bool
	truncate bool
}

// negative is the SOA put in the authority section of negative answers.
type negative struct{ ttl, minttl uint32 }

// canonical is the zone's key for a name: lower case, fully qualified.
func canonical(name string) string { return strings.ToLower(mdns.Fqdn(name)) }

// entryLocked returns name's entry, creating it. s.mu must be held.
func (s *Server) entryLocked(name string) *entry {
	k := canonical(name)
	e := s.names[k]
	if e == nil {
		e = &entry{}
		s.names[k] = e
	}
	return e
}

// SetSRV replaces the SRV records of name (none: no SRV records).
func (s *Server) SetSRV(name string, recs ...SRV) {
	rrs := make([]mdns.RR, 0, len(recs))
	for _, r := range recs {
		rrs = append(rrs, &mdns.SRV{
			Hdr:      mdns.RR_Header{Name: mdns.Fqdn(name), Rrtype: mdns.TypeSRV, Class: mdns.ClassINET, Ttl: r.TTL},
			Priority: r.Priority, Weight: r.Weight, Port: r.Port,
			Target: mdns.Fqdn(r.Target),
		})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entryLocked(name).srv = rrs
}

// SetA replaces the A records of name with ips (IPv4 addresses), each
// with the TTL ttl in seconds; none removes them. A bad address fails the
// test.
func (s *Server) SetA(name string, ttl uint32, ips ...string) {
	rrs := s.addrRecords(name, ttl, ips, true)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entryLocked(name).a = rrs
}

// SetAAAA replaces the AAAA records of name with ips (IPv6 addresses),
// each with the TTL ttl in seconds; none removes them. A bad address fails
// the test.
func (s *Server) SetAAAA(name string, ttl uint32, ips ...string) {
	rrs := s.addrRecords(name, ttl, ips, false)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entryLocked(name).aaaa = rrs
}

// addrRecords builds A (v4) or AAAA records of name.
func (s *Server) addrRecords(name string, ttl uint32, ips []string, v4 bool) []mdns.RR {
	s.t.Helper()
	hdr := mdns.RR_Header{Name: mdns.Fqdn(name), Class: mdns.ClassINET, Ttl: ttl}
	rrs := make([]mdns.RR, 0, len(ips))
	for _, ip := range ips {
		a, err := netip.ParseAddr(ip)
		if err != nil || a.Is4() != v4 || a.Zone() != "" {
			s.t.Fatalf("dnstest: %q is not an IPv%s address", ip, map[bool]string{true: "4", false: "6"}[v4])
		}
		if v4 {
			hdr.Rrtype = mdns.TypeA
			rrs = append(rrs, &mdns.A{Hdr: hdr, A: a.AsSlice()})
		} else {
			hdr.Rrtype = mdns.TypeAAAA
			rrs = append(rrs, &mdns.AAAA{Hdr: hdr, AAAA: a.AsSlice()})
		}
	}
	return rrs
}

// SetMode sets how name is answered (see Mode).
func (s *Server) SetMode(name string, m Mode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entryLocked(name).mode = m
}

// SetGlue sets whether an SRV answer for name carries, in its Additional
// section, the A and AAAA records the zone has for its targets (default
// off).
func (s *Server) SetGlue(name string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entryLocked(name).glue = on
}

// SetTruncate sets whether every UDP answer for name is truncated: the TC
// bit set and every section empty, so that the client has to ask again
// over TCP, which gets the whole answer (default off). Independently of
// it, a UDP answer larger than the client's buffer (512 bytes, or its
// EDNS0 size) is truncated as any server does.
func (s *Server) SetTruncate(name string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entryLocked(name).truncate = on
}

// Remove forgets every record and setting of name: it answers NXDOMAIN.
func (s *Server) Remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.names, canonical(name))
}

// SetNegativeTTL makes every negative answer (NXDOMAIN, or NOERROR with no
// answer) carry an SOA record in its authority section whose TTL is ttl
// and whose MINIMUM field is minttl, both in seconds (RFC 2308: the
// negative answer may be cached for the smaller). By default negative
// answers carry no SOA.
func (s *Server) SetNegativeTTL(ttl, minttl uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.neg = &negative{ttl: ttl, minttl: minttl}
}
