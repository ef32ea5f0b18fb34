package dns

import (
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/lbtrust/lb/config"
)

func TestClampTTL(t *testing.T) {
	for _, tc := range []struct {
		secs uint32
		want time.Duration
	}{
		{0, config.DNSMinRefresh},
		{1, time.Second},
		{30, 30 * time.Second},
		{300, 5 * time.Minute},
		{301, config.DNSMaxRefresh},
		{86400, config.DNSMaxRefresh},
		{^uint32(0), config.DNSMaxRefresh},
	} {
		if got := clampTTL(tc.secs); got != tc.want {
			t.Errorf("clampTTL(%d) = %v, want %v", tc.secs, got, tc.want)
		}
	}
}

func TestRefreshAfter(t *testing.T) {
	for _, tc := range []struct {
		name    string
		written time.Duration
		ttl     minTTL
		want    time.Duration
	}{
		{"written wins over a TTL", 7 * time.Second, minTTL{secs: 60, set: true}, 7 * time.Second},
		{"written wins when no TTL", 7 * time.Second, minTTL{}, 7 * time.Second},
		{"TTL", 0, minTTL{secs: 60, set: true}, time.Minute},
		{"TTL 0 raised", 0, minTTL{secs: 0, set: true}, config.DNSMinRefresh},
		{"day-long TTL lowered", 0, minTTL{secs: 86400, set: true}, config.DNSMaxRefresh},
		{"no TTL seen", 0, minTTL{}, NoTTLRefresh},
	} {
		if got := refreshAfter(tc.written, tc.ttl); got != tc.want {
			t.Errorf("%s: refreshAfter(%v, %+v) = %v, want %v", tc.name, tc.written, tc.ttl, got, tc.want)
		}
	}
}

func TestRetryDelay(t *testing.T) {
	for _, tc := range []struct {
		fails   int
		ceiling time.Duration
		want    time.Duration
	}{
		{0, time.Minute, time.Second},
		{1, time.Minute, 2 * time.Second},
		{2, time.Minute, 4 * time.Second},
		{5, time.Minute, 32 * time.Second},
		{6, time.Minute, time.Minute},
		{1000, time.Minute, time.Minute},
		{0, 300 * time.Millisecond, 300 * time.Millisecond},
		{3, 5 * time.Second, 5 * time.Second},
	} {
		if got := retryDelay(tc.fails, tc.ceiling); got != tc.want {
			t.Errorf("retryDelay(%d, %v) = %v, want %v", tc.fails, tc.ceiling, got, tc.want)
		}
	}
}

func TestRetryCeiling(t *testing.T) {
	for _, tc := range []struct {
		written, last, want time.Duration
	}{
		{10 * time.Second, time.Minute, 10 * time.Second},
		{0, time.Minute, time.Minute},
		{0, 0, retryCeilingBeforeSuccess},
	} {
		if got := retryCeiling(tc.written, tc.last); got != tc.want {
			t.Errorf("retryCeiling(%v, %v) = %v, want %v", tc.written, tc.last, got, tc.want)
		}
	}
}

func TestMinTTLObserve(t *testing.T) {
	hdr := func(rrtype uint16, ttl uint32) mdns.RR_Header {
		return mdns.RR_Header{Name: "x.test.", Rrtype: rrtype, Class: mdns.ClassINET, Ttl: ttl}
	}
	soa := func(ttl, minttl uint32) mdns.RR {
		return &mdns.SOA{Hdr: hdr(mdns.TypeSOA, ttl), Ns: "ns.test.", Mbox: "h.test.", Minttl: minttl}
	}
	for _, tc := range []struct {
		name   string
		answer []mdns.RR
		ns     []mdns.RR
		want   minTTL
	}{
		{"answer records", []mdns.RR{
			&mdns.CNAME{Hdr: hdr(mdns.TypeCNAME, 40), Target: "y.test."},
			&mdns.A{Hdr: hdr(mdns.TypeA, 90)},
		}, nil, minTTL{40, true}},
		{"answer wins over authority", []mdns.RR{&mdns.A{Hdr: hdr(mdns.TypeA, 90)}}, []mdns.RR{soa(5, 5)}, minTTL{90, true}},
		{"negative: SOA minimum", nil, []mdns.RR{soa(600, 30)}, minTTL{30, true}},
		{"negative: SOA ttl", nil, []mdns.RR{soa(20, 30)}, minTTL{20, true}},
		{"negative without SOA", nil, nil, minTTL{}},
	} {
		var got minTTL
		got.observe(&mdns.Msg{Answer: tc.answer, Ns: tc.ns})
		if got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
