package dnstest

import (
	"errors"
	"net"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/lbtrust/lb/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }

// ask sends one query to s over network and returns the answer.
func ask(t *testing.T, s *Server, network, name string, qtype uint16) (*mdns.Msg, error) {
	t.Helper()
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(name), qtype)
	c := &mdns.Client{Net: network, Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, s.Addr())
	return r, err
}

func mustAsk(t *testing.T, s *Server, network, name string, qtype uint16) *mdns.Msg {
	t.Helper()
	r, err := ask(t, s, network, name, qtype)
	if err != nil {
		t.Fatalf("%s %s over %s: %v", mdns.TypeToString[qtype], name, network, err)
	}
	return r
}

func TestAnswersOverUDPAndTCP(t *testing.T) {
	s := Start(t)
	if h, _, err := net.SplitHostPort(s.Addr()); err != nil || h != "127.0.0.1" {
		t.Fatalf("Addr = %q", s.Addr())
	}
	s.SetA("web.test", 30, "127.0.0.2", "127.0.0.3")
	for _, network := range []string{"udp", "tcp"} {
		r := mustAsk(t, s, network, "WEB.test.", mdns.TypeA)
		if r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 2 || r.Answer[0].Header().Ttl != 30 {
			t.Fatalf("%s: %v", network, r)
		}
	}
	if got := s.QueriesOf("web.test", mdns.TypeA, "tcp"); got != 1 {
		t.Errorf("tcp A queries = %d, want 1", got)
	}
	if got := s.Queries("web.test"); got != 2 {
		t.Errorf("queries = %d, want 2", got)
	}
}

func TestSRVWithAndWithoutGlue(t *testing.T) {
	s := Start(t)
	s.SetSRV("_http._tcp.web.test", SRV{Priority: 1, Weight: 5, Port: 8080, Target: "a.test", TTL: 10})
	s.SetA("a.test", 20, "127.0.0.2")
	s.SetAAAA("a.test", 20, "::1")
	r := mustAsk(t, s, "udp", "_http._tcp.web.test", mdns.TypeSRV)
	if len(r.Answer) != 1 || len(r.Extra) != 0 {
		t.Fatalf("without glue: %v", r)
	}
	srv := r.Answer[0].(*mdns.SRV)
	if srv.Port != 8080 || srv.Weight != 5 || srv.Target != "a.test." {
		t.Fatalf("srv = %v", srv)
	}
	s.SetGlue("_http._tcp.web.test", true)
	r = mustAsk(t, s, "udp", "_http._tcp.web.test", mdns.TypeSRV)
	if len(r.Extra) != 2 {
		t.Fatalf("with glue: %v", r)
	}
}

func TestNegativeAnswers(t *testing.T) {
	s := Start(t)
	s.SetA("a.test", 20, "127.0.0.2")
	if r := mustAsk(t, s, "udp", "none.test", mdns.TypeA); r.Rcode != mdns.RcodeNameError || len(r.Ns) != 0 {
		t.Fatalf("unknown name: %v", r)
	}
	if r := mustAsk(t, s, "udp", "a.test", mdns.TypeAAAA); r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 0 {
		t.Fatalf("no AAAA: %v", r)
	}
	s.SetNegativeTTL(60, 7)
	r := mustAsk(t, s, "udp", "a.test", mdns.TypeAAAA)
	if len(r.Ns) != 1 || r.Ns[0].(*mdns.SOA).Minttl != 7 || r.Ns[0].Header().Ttl != 60 {
		t.Fatalf("no AAAA with SOA: %v", r)
	}
	s.SetMode("a.test", NXDomain)
	if r := mustAsk(t, s, "udp", "a.test", mdns.TypeA); r.Rcode != mdns.RcodeNameError || len(r.Ns) != 1 {
		t.Fatalf("NXDomain: %v", r)
	}
	s.SetMode("a.test", NoData)
	if r := mustAsk(t, s, "udp", "a.test", mdns.TypeA); r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 0 {
		t.Fatalf("NoData: %v", r)
	}
	s.SetMode("a.test", Answer)
	s.Remove("a.test")
	if r := mustAsk(t, s, "udp", "a.test", mdns.TypeA); r.Rcode != mdns.RcodeNameError {
		t.Fatalf("removed: %v", r)
	}
}

func TestFailures(t *testing.T) {
	s := Start(t)
	s.SetA("a.test", 20, "127.0.0.2")
	s.SetMode("a.test", ServFail)
	if r := mustAsk(t, s, "udp", "a.test", mdns.TypeA); r.Rcode != mdns.RcodeServerFailure {
		t.Fatalf("ServFail: %v", r)
	}
	s.SetMode("a.test", Refused)
	if r := mustAsk(t, s, "tcp", "a.test", mdns.TypeA); r.Rcode != mdns.RcodeRefused {
		t.Fatalf("Refused: %v", r)
	}
	s.SetMode("a.test", Drop)
	m := new(mdns.Msg)
	m.SetQuestion("a.test.", mdns.TypeA)
	for _, network := range []string{"udp", "tcp"} {
		c := &mdns.Client{Net: network, Timeout: 200 * time.Millisecond}
		_, _, err := c.Exchange(m, s.Addr())
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("Drop over %s: err = %v, want a timeout", network, err)
		}
	}
	if got := s.Queries("a.test"); got != 4 {
		t.Errorf("queries = %d, want 4", got)
	}
}

func TestTruncation(t *testing.T) {
	s := Start(t)
	s.SetA("a.test", 20, "127.0.0.2")
	s.SetTruncate("a.test", true)
	if r := mustAsk(t, s, "udp", "a.test", mdns.TypeA); !r.Truncated || len(r.Answer) != 0 {
		t.Fatalf("udp: %v", r)
	}
	if r := mustAsk(t, s, "tcp", "a.test", mdns.TypeA); r.Truncated || len(r.Answer) != 1 {
		t.Fatalf("tcp: %v", r)
	}
	s.SetTruncate("a.test", false)
	// An answer too large for 512 bytes is truncated by size.
	var ips []string
	for i := range 60 {
		ips = append(ips, net.IPv4(127, 1, 0, byte(i)).String())
	}
	s.SetA("many.test", 20, ips...)
	if r := mustAsk(t, s, "udp", "many.test", mdns.TypeA); !r.Truncated {
		t.Fatalf("60 A records over udp not truncated: %d answers", len(r.Answer))
	}
	if r := mustAsk(t, s, "tcp", "many.test", mdns.TypeA); r.Truncated || len(r.Answer) != 60 {
		t.Fatalf("tcp: truncated %v, %d answers", r.Truncated, len(r.Answer))
	}
}

func TestCloseTwice(t *testing.T) {
	s := Start(t)
	s.Close()
	s.Close()
}
