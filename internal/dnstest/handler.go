package dnstest

import (
	"net"
	"strings"

	mdns "github.com/miekg/dns"
)

// queryKey counts queries by name, type and transport.
type queryKey struct {
	name  string
	qtype uint16
	tcp   bool
}

// ServeDNS answers one query from the zone (mdns.Handler). It is called by
// the miekg/dns servers, one goroutine per query.
func (s *Server) ServeDNS(w mdns.ResponseWriter, req *mdns.Msg) {
	if len(req.Question) != 1 {
		m := new(mdns.Msg)
		m.SetRcode(req, mdns.RcodeFormatError)
		w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	_, tcp := w.LocalAddr().(*net.TCPAddr)
	m, truncate := s.answer(req, q, tcp)
	if m == nil {
		return // Drop
	}
	if opt := req.IsEdns0(); opt != nil {
		m.SetEdns0(opt.UDPSize(), false)
	}
	if !tcp {
		if truncate {
			m.Answer, m.Ns, m.Extra = nil, nil, nil
			m.Truncated = true
		} else {
			size := mdns.MinMsgSize
			if opt := req.IsEdns0(); opt != nil {
				size = int(opt.UDPSize())
			}
			m.Truncate(size)
		}
	}
	w.WriteMsg(m)
}

// answer counts the query and builds its answer from the zone: nil for
// Drop, and whether a UDP answer is to be truncated.
func (s *Server) answer(req *mdns.Msg, q mdns.Question, tcp bool) (*mdns.Msg, bool) {
	name := canonical(q.Name)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count[queryKey{name, q.Qtype, tcp}]++
	m := new(mdns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	e := s.names[name]
	if e == nil {
		e = &entry{}
	}
	switch e.mode {
	case Drop:
		return nil, false
	case ServFail:
		m.Rcode = mdns.RcodeServerFailure
		return m, false
	case Refused:
		m.Rcode = mdns.RcodeRefused
		return m, false
	case NXDomain:
		m.Rcode = mdns.RcodeNameError
		s.negativeLocked(m, name)
		return m, false
	case NoData:
		s.negativeLocked(m, name)
		return m, false
	}
	if len(e.srv)+len(e.a)+len(e.aaaa) == 0 {
		m.Rcode = mdns.RcodeNameError
		s.negativeLocked(m, name)
		return m, e.truncate
	}
	switch q.Qtype {
	case mdns.TypeSRV:
		m.Answer = copyRRs(e.srv)
		if e.glue {
			glued := map[string]bool{}
			for _, rr := range e.srv {
				k := canonical(rr.(*mdns.SRV).Target)
				if glued[k] {
					continue
				}
				glued[k] = true
				if t := s.names[k]; t != nil {
					m.Extra = append(m.Extra, copyRRs(t.a)...)
					m.Extra = append(m.Extra, copyRRs(t.aaaa)...)
				}
			}
		}
	case mdns.TypeA:
		m.Answer = copyRRs(e.a)
	case mdns.TypeAAAA:
		m.Answer = copyRRs(e.aaaa)
	}
	if len(m.Answer) == 0 {
		s.negativeLocked(m, name)
	}
	return m, e.truncate
}

// negativeLocked puts the SOA of SetNegativeTTL, if any, in m's authority
// section, owned by the last label of name. s.mu must be held.
func (s *Server) negativeLocked(m *mdns.Msg, name string) {
	if s.neg == nil {
		return
	}
	labels := mdns.SplitDomainName(name)
	zone := "."
	if len(labels) > 0 {
		zone = labels[len(labels)-1] + "."
	}
	m.Ns = append(m.Ns, &mdns.SOA{
		Hdr:     mdns.RR_Header{Name: zone, Rrtype: mdns.TypeSOA, Class: mdns.ClassINET, Ttl: s.neg.ttl},
		Ns:      "ns." + zone,
		Mbox:    "hostmaster." + zone,
		Serial:  1,
		Refresh: 3600,
		Retry:   600,
		Expire:  86400,
		Minttl:  s.neg.minttl,
	})
}

// copyRRs copies records so that an answer being written never shares
// them with the zone a test changes.
func copyRRs(rrs []mdns.RR) []mdns.RR {
	out := make([]mdns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = mdns.Copy(rr)
	}
	return out
}

// Queries is how many queries the server got for name, of any type, over
// UDP and TCP.
func (s *Server) Queries(name string) int {
	return s.countWhere(name, func(queryKey) bool { return true })
}

// QueriesOf is how many queries of type qtype (mdns.TypeA, ...) the server
// got for name over network ("udp" or "tcp").
func (s *Server) QueriesOf(name string, qtype uint16, network string) int {
	tcp := strings.HasPrefix(network, "tcp")
	return s.countWhere(name, func(k queryKey) bool { return k.qtype == qtype && k.tcp == tcp })
}

// countWhere sums the counts of name's keys that match.
func (s *Server) countWhere(name string, match func(queryKey) bool) int {
	name = canonical(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, c := range s.count {
		if k.name == name && match(k) {
			n += c
		}
	}
	return n
}
