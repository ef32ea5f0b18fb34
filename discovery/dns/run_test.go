package dns

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/discovery"
	"github.com/lbtrust/lb/discovery/discoverytest"
	"github.com/lbtrust/lb/internal/dnstest"
)

const svc = "_http._tcp.web.test"

// TestRunSRVFollowsChanges: the initial set, then an added record, a
// removed one and a changed weight, each seen on the TTL-driven refresh
// (TTL 1s, no refresh written).
func TestRunSRVFollowsChanges(t *testing.T) {
	t.Parallel()
	srv := dnstest.Start(t)
	srv.SetGlue(svc, true)
	srv.SetA("a.test", 1, "127.0.0.2")
	srv.SetA("b.test", 1, "127.0.0.3")
	srv.SetA("c.test", 1, "127.0.0.4")
	a := dnstest.SRV{Priority: 10, Weight: 5, Port: 8080, Target: "a.test", TTL: 1}
	b := dnstest.SRV{Priority: 10, Weight: 0, Port: 8081, Target: "b.test", TTL: 1}
	c := dnstest.SRV{Priority: 10, Weight: 2, Port: 8082, Target: "c.test", TTL: 1}
	srv.SetSRV(svc, a, b)
	r := start(t, srv, Config{Name: svc})

	r.waitSet(t, tg("127.0.0.2:8080", 5), tg("127.0.0.3:8081", 1))
	if !r.logged(zap.InfoLevel, "dns discovery set changed", "added", 2) {
		t.Errorf("no info log of the first set with added=2: %v", r.logs.All())
	}

	srv.SetSRV(svc, a, b, c)
	r.waitSet(t, tg("127.0.0.2:8080", 5), tg("127.0.0.3:8081", 1), tg("127.0.0.4:8082", 2))

	srv.SetSRV(svc, a, c)
	r.waitSet(t, tg("127.0.0.2:8080", 5), tg("127.0.0.4:8082", 2))
	if !r.logged(zap.InfoLevel, "dns discovery set changed", "removed", 1) {
		t.Errorf("no info log with removed=1: %v", r.logs.All())
	}

	a.Weight = 9
	srv.SetSRV(svc, a, c)
	r.waitSet(t, tg("127.0.0.2:8080", 9), tg("127.0.0.4:8082", 2))
	if !r.logged(zap.InfoLevel, "dns discovery set changed", "reweighted", 1) {
		t.Errorf("no info log with reweighted=1: %v", r.logs.All())
	}
	if n := r.fails(); n != 0 {
		t.Errorf("%d Fail calls: %v", n, r.sink.Calls())
	}
}

// logged says whether a log line of level and msg has the integer field
// key = val.
func (r *run) logged(level zapcore.Level, msg, key string, val int64) bool {
	for _, e := range r.logs.FilterMessage(msg).All() {
		if e.Level != level {
			continue
		}
		if f, ok := e.ContextMap()[key]; ok && f == val {
			return true
		}
	}
	return false
}

// TestRunSRVLowestPriorityOnly: records of higher priority values are
// fallbacks, used once the lower ones are gone from DNS.
func TestRunSRVLowestPriorityOnly(t *testing.T) {
	t.Parallel()
	srv := dnstest.Start(t)
	srv.SetA("primary.test", 1, "127.0.0.2")
	srv.SetA("backup.test", 1, "127.0.0.3")
	srv.SetA("last.test", 1, "127.0.0.4")
	srv.SetSRV(svc,
		dnstest.SRV{Priority: 20, Weight: 1, Port: 80, Target: "backup.test", TTL: 1},
		dnstest.SRV{Priority: 10, Weight: 3, Port: 80, Target: "primary.test", TTL: 1},
		dnstest.SRV{Priority: 30, Weight: 1, Port: 80, Target: "last.test", TTL: 1},
	)
	r := start(t, srv, Config{Name: svc})
	r.waitSet(t, tg("127.0.0.2:80", 3))
	if n := srv.Queries("backup.test") + srv.Queries("last.test"); n != 0 {
		t.Errorf("fallback targets asked %d times while unused", n)
	}

	srv.SetSRV(svc,
		dnstest.SRV{Priority: 20, Weight: 1, Port: 80, Target: "backup.test", TTL: 1},
		dnstest.SRV{Priority: 30, Weight: 1, Port: 80, Target: "last.test", TTL: 1},
	)
	r.waitSet(t, tg("127.0.0.3:80", 1))
}

// TestRunTTLDrivesRefresh: with no refresh written, a 1s TTL has the name
// asked again and again, and a change is seen; a written refresh wins
// over a long TTL.
func TestRunTTLDrivesRefresh(t *testing.T) {
	t.Parallel()
	t.Run("ttl", func(t *testing.T) {
		t.Parallel()
		srv := dnstest.Start(t)
		srv.SetA("web.test", 1, "127.0.0.2")
		r := start(t, srv, Config{Name: "web.test", Port: 8080})
		r.waitSet(t, tg("127.0.0.2:8080", 1))
		waitFor(t, "third lookup", func() bool { return srv.QueriesOf("web.test", mdns.TypeA, "udp") >= 3 })
		srv.SetA("web.test", 1, "127.0.0.3")
		r.waitSet(t, tg("127.0.0.3:8080", 1))
		updates := len(r.sink.Calls())
		if updates < 3 {
			t.Errorf("%d Updates, want one per lookup (at least 3)", updates)
		}
	})
	t.Run("written refresh", func(t *testing.T) {
		t.Parallel()
		srv := dnstest.Start(t)
		srv.SetA("web.test", 3600, "127.0.0.2")
		r := start(t, srv, Config{Name: "web.test", Port: 8080, Refresh: time.Second})
		r.waitSet(t, tg("127.0.0.2:8080", 1))
		srv.SetA("web.test", 3600, "127.0.0.3")
		r.waitSet(t, tg("127.0.0.3:8080", 1))
	})
}

// TestRunFailureKeepsLastSet: SERVFAIL, REFUSED, a silent server and an
// unreachable one each give Fail and no Update (so the last set stays),
// then the next good answer gives an Update again.
func TestRunFailureKeepsLastSet(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		mode    dnstest.Mode
		wantErr []string // the error names one of these
	}{
		{"servfail", dnstest.ServFail, []string{"SERVFAIL"}},
		{"refused", dnstest.Refused, []string{"REFUSED"}},
		{"timeout", dnstest.Drop, []string{"timed out", "timeout"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := dnstest.Start(t)
			srv.SetGlue(svc, true)
			srv.SetA("a.test", 1, "127.0.0.2")
			srv.SetSRV(svc, dnstest.SRV{Priority: 1, Weight: 1, Port: 80, Target: "a.test", TTL: 1})
			r := start(t, srv, Config{Name: svc, Timeout: 300 * time.Millisecond})
			want := []discovery.Target{tg("127.0.0.2:80", 1)}
			n := r.waitSet(t, want...)

			srv.SetMode(svc, tc.mode)
			fail := r.waitFail(t, n)
			if !containsAny(fail.Err.Error(), tc.wantErr) || !strings.Contains(fail.Err.Error(), svc) {
				t.Errorf("Fail(%v): want the name and one of %q", fail.Err, tc.wantErr)
			}
			// A second failure, from the backoff's retry.
			waitFor(t, "second Fail", func() bool { return r.fails() >= 2 })
			if !r.logged(zap.WarnLevel, "dns discovery lookup failed; keeping the last set", "failures_in_a_row", 2) {
				t.Errorf("no warn log of the second failure: %v", r.logs.All())
			}
			evs := r.sink.Calls()
			first := n
			for !evs[first].Failed {
				first++ // an Update from a lookup before the switch
			}
			for _, e := range evs[first:] {
				if !e.Failed {
					t.Fatalf("Update after the first Fail while failing: %v", evs)
				}
			}

			srv.SetMode(svc, dnstest.Answer)
			r.waitSet(t, want...)
			for _, e := range r.sink.Calls() {
				if !e.Failed && len(e.Targets) == 0 {
					t.Fatalf("an empty Update: %v", r.sink.Calls())
				}
			}
			if len(r.logs.FilterMessage("dns discovery lookup recovered; set unchanged").All()) == 0 {
				t.Errorf("no info log of the recovery: %v", r.logs.All())
			}
		})
	}
}

// TestRunFailureOfATargetFailsTheLookup: a target's A query failing is
// the whole lookup failing, not that target's backends leaving.
func TestRunFailureOfATargetFailsTheLookup(t *testing.T) {
	t.Parallel()
	srv := dnstest.Start(t)
	srv.SetA("a.test", 1, "127.0.0.2")
	srv.SetA("b.test", 1, "127.0.0.3")
	srv.SetSRV(svc,
		dnstest.SRV{Priority: 1, Weight: 1, Port: 80, Target: "a.test", TTL: 1},
		dnstest.SRV{Priority: 1, Weight: 1, Port: 80, Target: "b.test", TTL: 1},
	)
	r := start(t, srv, Config{Name: svc})
	n := r.waitSet(t, tg("127.0.0.2:80", 1), tg("127.0.0.3:80", 1))
	srv.SetMode("b.test", dnstest.ServFail)
	fail := r.waitFail(t, n)
	if !strings.Contains(fail.Err.Error(), "b.test") {
		t.Errorf("Fail(%v) does not name b.test", fail.Err)
	}
	srv.SetMode("b.test", dnstest.Answer)
	r.waitSet(t, tg("127.0.0.2:80", 1), tg("127.0.0.3:80", 1))
	for _, e := range r.sink.Calls() {
		if !e.Failed && len(e.Targets) != 2 {
			t.Fatalf("an Update without both targets: %v", r.sink.Calls())
		}
	}
}

// TestRunUnreachableResolver: nothing listens on the resolver's port.
func TestRunUnreachableResolver(t *testing.T) {
	t.Parallel()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	srv := dnstest.Start(t) // unused; the source asks addr
	r := start(t, srv, Config{Name: "web.test", Port: 80, Resolver: addr, Timeout: 500 * time.Millisecond})
	fail := r.waitFail(t, 0)
	if !strings.Contains(fail.Err.Error(), addr) {
		t.Errorf("Fail(%v) does not name the resolver %s", fail.Err, addr)
	}
	for _, e := range r.sink.Calls() {
		if !e.Failed {
			t.Fatalf("an Update from an unreachable resolver: %v", r.sink.Calls())
		}
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// TestRunEmptyAnswerIsAnEmptyUpdate: NXDOMAIN, NOERROR with no record, the
// SRV records gone and every target gone are authoritative: an Update
// with no targets, never a Fail; the set comes back when the records do.
func TestRunEmptyAnswerIsAnEmptyUpdate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		empty func(*dnstest.Server)
		soa   bool
	}{
		{"nxdomain", func(s *dnstest.Server) { s.SetMode(svc, dnstest.NXDomain) }, false},
		{"nxdomain with SOA", func(s *dnstest.Server) { s.SetMode(svc, dnstest.NXDomain) }, true},
		{"no data", func(s *dnstest.Server) { s.SetMode(svc, dnstest.NoData) }, true},
		{"records removed", func(s *dnstest.Server) { s.SetSRV(svc) }, true},
		{"targets gone", func(s *dnstest.Server) { s.Remove("a.test") }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := dnstest.Start(t)
			if tc.soa {
				srv.SetNegativeTTL(1, 1) // refresh 1s after the empty answer
			}
			srv.SetA("a.test", 1, "127.0.0.2")
			srv.SetSRV(svc, dnstest.SRV{Priority: 1, Weight: 1, Port: 80, Target: "a.test", TTL: 1})
			r := start(t, srv, Config{Name: svc})
			r.waitSet(t, tg("127.0.0.2:80", 1))
			tc.empty(srv)
			r.waitSet(t)
			if !r.logged(zap.InfoLevel, "dns discovery set changed", "removed", 1) {
				t.Errorf("no info log with removed=1: %v", r.logs.All())
			}

			srv.SetMode(svc, dnstest.Answer)
			srv.SetA("a.test", 1, "127.0.0.2")
			srv.SetSRV(svc, dnstest.SRV{Priority: 1, Weight: 1, Port: 80, Target: "a.test", TTL: 1})
			r.waitSet(t, tg("127.0.0.2:80", 1))
			if n := r.fails(); n != 0 {
				t.Errorf("%d Fail calls: %v", n, r.sink.Calls())
			}
		})
	}
}

// TestRunTypeA: A and AAAA answers, AAAA only, A only; IPv6 in brackets.
func TestRunTypeA(t *testing.T) {
	t.Parallel()
	srv := dnstest.Start(t)
	srv.SetAAAA("web.test", 1, "::1", "2001:db8::5")
	r := start(t, srv, Config{Name: "web.test", Type: config.DNSRecordA, Port: 8080})
	r.waitSet(t, tg("[2001:db8::5]:8080", 1), tg("[::1]:8080", 1))

	srv.SetA("web.test", 1, "127.0.0.2")
	r.waitSet(t, tg("127.0.0.2:8080", 1), tg("[2001:db8::5]:8080", 1), tg("[::1]:8080", 1))

	srv.SetAAAA("web.test", 1)
	r.waitSet(t, tg("127.0.0.2:8080", 1))
}

// TestRunGlue: with glue, the targets' addresses come from the SRV
// answer's Additional section and no target is asked; without, each
// target is asked for A and AAAA. The sets are the same: a target with
// several addresses gives several backends of its port and weight.
func TestRunGlue(t *testing.T) {
	t.Parallel()
	for _, glue := range []bool{true, false} {
		t.Run(map[bool]string{true: "glue", false: "no glue"}[glue], func(t *testing.T) {
			t.Parallel()
			srv := dnstest.Start(t)
			srv.SetGlue(svc, glue)
			srv.SetA("a.test", 30, "127.0.0.2", "127.0.0.3")
			srv.SetAAAA("a.test", 30, "::1")
			srv.SetA("b.test", 30, "127.0.0.4")
			srv.SetSRV(svc,
				dnstest.SRV{Priority: 1, Weight: 4, Port: 9000, Target: "a.test", TTL: 30},
				dnstest.SRV{Priority: 1, Weight: 1, Port: 9001, Target: "b.test", TTL: 30},
			)
			r := start(t, srv, Config{Name: svc})
			r.waitSet(t, tg("127.0.0.2:9000", 4), tg("127.0.0.3:9000", 4), tg("127.0.0.4:9001", 1), tg("[::1]:9000", 4))
			asked := srv.Queries("a.test") + srv.Queries("b.test")
			switch {
			case glue && asked != 0:
				t.Errorf("targets asked %d times despite glue", asked)
			case !glue && (srv.QueriesOf("a.test", mdns.TypeA, "udp") != 1 || srv.QueriesOf("a.test", mdns.TypeAAAA, "udp") != 1):
				t.Errorf("a.test asked A %d, AAAA %d times; want once each",
					srv.QueriesOf("a.test", mdns.TypeA, "udp"), srv.QueriesOf("a.test", mdns.TypeAAAA, "udp"))
			}
		})
	}
}

// TestRunTruncatedAnswerRetriedOverTCP: a truncated UDP answer is asked
// again over TCP, whether the server truncates on purpose or because the
// answer (200 records) exceeds the UDP buffer.
func TestRunTruncatedAnswerRetriedOverTCP(t *testing.T) {
	t.Parallel()
	t.Run("forced", func(t *testing.T) {
		srv := dnstest.Start(t)
		srv.SetGlue(svc, true)
		srv.SetTruncate(svc, true)
		srv.SetA("a.test", 30, "127.0.0.2")
		srv.SetSRV(svc, dnstest.SRV{Priority: 1, Weight: 2, Port: 80, Target: "a.test", TTL: 30})
		r := start(t, srv, Config{Name: svc})
		r.waitSet(t, tg("127.0.0.2:80", 2))
		if srv.QueriesOf(svc, mdns.TypeSRV, "tcp") != 1 {
			t.Errorf("SRV asked over TCP %d times, want 1", srv.QueriesOf(svc, mdns.TypeSRV, "tcp"))
		}
	})
	t.Run("large", func(t *testing.T) {
		srv := dnstest.Start(t)
		srv.SetGlue(svc, true)
		srv.SetA("a.test", 30, "127.0.0.2")
		var recs []dnstest.SRV
		var want []discovery.Target
		for port := uint16(10000); port < 10200; port++ {
			recs = append(recs, dnstest.SRV{Priority: 1, Weight: 1, Port: port, Target: "a.test", TTL: 30})
			want = append(want, tg(net.JoinHostPort("127.0.0.2", strconv.Itoa(int(port))), 1))
		}
		srv.SetSRV(svc, recs...)
		r := start(t, srv, Config{Name: svc})
		r.waitSet(t, discovery.Normalize(want)...)
		if srv.QueriesOf(svc, mdns.TypeSRV, "tcp") != 1 {
			t.Errorf("SRV asked over TCP %d times, want 1", srv.QueriesOf(svc, mdns.TypeSRV, "tcp"))
		}
	})
}

// TestRunStopsAtOnce: ending the context cuts a lookup in flight (the
// server never answers, the timeout is long) and Run returns without
// reporting anything.
func TestRunStopsAtOnce(t *testing.T) {
	t.Parallel()
	srv := dnstest.Start(t)
	srv.SetMode("web.test", dnstest.Drop)
	s, err := New(Config{Name: "web.test", Port: 80, Resolver: srv.Addr(), Timeout: 10 * time.Minute}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sink := discoverytest.NewRecorder(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx, sink)
	}()
	waitFor(t, "query", func() bool { return srv.Queries("web.test") > 0 })
	cancel()
	select {
	case <-done:
	case <-time.After(deadline):
		t.Fatalf("Run did not return %v after its context ended", deadline)
	}
	if evs := sink.Calls(); len(evs) != 0 {
		t.Errorf("events after the end: %v", evs)
	}
}

// TestRunTargetTTLDrivesRefresh: the smallest TTL of everything used sets
// the refresh, a target's addresses included: a long SRV TTL with a 1s
// address TTL, from glue or from the target's own A answer, still has a
// changed address seen.
func TestRunTargetTTLDrivesRefresh(t *testing.T) {
	t.Parallel()
	for _, glue := range []bool{true, false} {
		t.Run(map[bool]string{true: "glue", false: "no glue"}[glue], func(t *testing.T) {
			t.Parallel()
			srv := dnstest.Start(t)
			srv.SetGlue(svc, glue)
			srv.SetA("a.test", 1, "127.0.0.2")
			srv.SetSRV(svc, dnstest.SRV{Priority: 1, Weight: 1, Port: 80, Target: "a.test", TTL: 3600})
			r := start(t, srv, Config{Name: svc})
			r.waitSet(t, tg("127.0.0.2:80", 1))
			srv.SetA("a.test", 1, "127.0.0.3")
			r.waitSet(t, tg("127.0.0.3:80", 1))
		})
	}
}
