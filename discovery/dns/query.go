package dns

import (
	"context"
	"fmt"

	mdns "github.com/miekg/dns"
)

// udpBufferSize is the EDNS0 buffer a query advertises: the size the DNS
// flag day 2020 recommends, which avoids IP fragmentation.
const udpBufferSize = 1232

// query asks the resolver for name's records of type qtype: over UDP, and
// again over TCP when that answer is truncated. An answer whose rcode is
// NOERROR or NXDOMAIN is returned; any other rcode, a timeout or a network
// error is an error naming the query. ctx bounds it.
func (s *Source) query(ctx context.Context, name string, qtype uint16) (*mdns.Msg, error) {
	m := new(mdns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(udpBufferSize, false)
	r, err := s.exchange(ctx, "udp", m)
	if err == nil && r.Truncated {
		r, err = s.exchange(ctx, "tcp", m)
	}
	if err != nil {
		return nil, fmt.Errorf("dns %s %s via %s: %w", mdns.TypeToString[qtype], name, s.resolver, err)
	}
	switch r.Rcode {
	case mdns.RcodeSuccess, mdns.RcodeNameError:
		return r, nil
	}
	return nil, fmt.Errorf("dns %s %s via %s: answered %s", mdns.TypeToString[qtype], name, s.resolver, rcodeName(r.Rcode))
}

// rcodeName is rcode's mnemonic (SERVFAIL), or its number.
func rcodeName(rcode int) string {
	if n, ok := mdns.RcodeToString[rcode]; ok {
		return n
	}
	return fmt.Sprintf("rcode %d", rcode)
}

// exchange sends m over network ("udp" or "tcp") on a connection of its
// own and reads the answer. The context's deadline bounds it and its end
// cuts it at once (the connection is closed under the read).
func (s *Source) exchange(ctx context.Context, network string, m *mdns.Msg) (*mdns.Msg, error) {
	c := &mdns.Client{Net: network, Timeout: s.timeout, UDPSize: udpBufferSize}
	conn, err := c.DialContext(ctx, s.resolver)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	r, _, err := c.ExchangeWithConnContext(ctx, m, conn)
	if err != nil && ctx.Err() != nil {
		return nil, context.Cause(ctx) // the lookup's timeout, or Run's end
	}
	return r, err
}
