package dns

import (
	"context"
	"fmt"
	"net/netip"

	mdns "github.com/miekg/dns"

	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/discovery"
)

// result is what one successful lookup found.
type result struct {
	// targets is the complete normalized set, maybe empty.
	targets []discovery.Target
	// ttl is the smallest TTL of everything the lookup used.
	ttl minTTL
}

// lookup reads the source's name once, all its queries bounded by the
// source's timeout. Any failed query fails it.
func (s *Source) lookup(ctx context.Context) (result, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, s.timeout, fmt.Errorf("lookup timed out after %v", s.timeout))
	defer cancel()
	var res result
	var err error
	if s.typ == config.DNSRecordSRV {
		res.targets, err = s.lookupSRV(ctx, &res.ttl)
	} else {
		var ips []netip.Addr
		ips, err = s.resolve(ctx, s.name, &res.ttl)
		res.targets = addrTargets(ips, s.port)
	}
	if err != nil {
		return result{}, err
	}
	return res, nil
}

// lookupSRV asks for the SRV records of the source's name and resolves
// the targets of those of the lowest priority: from the answer's
// Additional section when it holds addresses of the target, else by A and
// AAAA queries (once per target).
func (s *Source) lookupSRV(ctx context.Context, ttl *minTTL) ([]discovery.Target, error) {
	r, err := s.query(ctx, s.name, mdns.TypeSRV)
	if err != nil {
		return nil, err
	}
	ttl.observe(r)
	var recs []*mdns.SRV
	for _, rr := range r.Answer {
		if srv, ok := rr.(*mdns.SRV); ok {
			recs = append(recs, srv)
		}
	}
	recs = selectSRV(recs)
	glue := addrsOf(r.Extra)
	addrs := map[string][]netip.Addr{} // a target resolved to none is here too, as nil
	for _, rec := range recs {
		k := canonical(rec.Target)
		if _, done := addrs[k]; done {
			continue
		}
		if ips := glue[k]; len(ips) > 0 {
			addrs[k] = ips
			for _, rr := range r.Extra {
				if _, ok := addrOf(rr); ok && canonical(rr.Header().Name) == k {
					ttl.add(rr.Header().Ttl)
				}
			}
			continue
		}
		ips, err := s.resolve(ctx, mdns.Fqdn(rec.Target), ttl)
		if err != nil {
			return nil, err
		}
		addrs[k] = ips
	}
	return srvTargets(recs, addrs), nil
}

// resolve asks for name's A and AAAA records and returns their addresses
// (none for NXDOMAIN or no records).
func (s *Source) resolve(ctx context.Context, name string, ttl *minTTL) ([]netip.Addr, error) {
	var ips []netip.Addr
	for _, qtype := range []uint16{mdns.TypeA, mdns.TypeAAAA} {
		r, err := s.query(ctx, name, qtype)
		if err != nil {
			return nil, err
		}
		ttl.observe(r)
		for _, rr := range r.Answer {
			if rr.Header().Rrtype != qtype {
				continue // a CNAME on the way
			}
			if ip, ok := addrOf(rr); ok {
				ips = append(ips, ip)
			}
		}
	}
	return ips, nil
}
