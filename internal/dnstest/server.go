// Package dnstest runs a real DNS server (github.com/miekg/dns) on
// 127.0.0.1, UDP and TCP on one port, whose zone a test changes while it
// runs: SRV, A and AAAA records with their TTLs, glue in the Additional
// section or not, a name made NXDOMAIN, NOERROR with no answer, SERVFAIL,
// REFUSED or silent, answers truncated over UDP. It counts the queries it
// gets per name. It is test support: nothing outside tests imports it.
package dnstest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"

	mdns "github.com/miekg/dns"
)

// Server is a DNS server on 127.0.0.1 serving a zone held in memory. Every
// method is safe for concurrent use; the setters (zone.go) take effect for
// the next query.
type Server struct {
	t    testing.TB
	addr string
	udp  *mdns.Server
	tcp  *mdns.Server
	done sync.WaitGroup // the two serving goroutines

	closeOnce sync.Once

	mu    sync.Mutex
	names map[string]*entry // by canonical name (lower case, fully qualified)
	neg   *negative         // SOA of negative answers; nil: none
	count map[queryKey]int
}

// Start starts a server on a free 127.0.0.1 port, UDP and TCP both, with
// an empty zone (every name NXDOMAIN). Test cleanup closes it; Close may
// also be called earlier.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, names: map[string]*entry{}, count: map[queryKey]int{}}
	pc, ln, err := listenPair()
	if err != nil {
		t.Fatalf("dnstest: %v", err)
	}
	s.addr = pc.LocalAddr().String()
	started := make(chan struct{}, 2)
	notify := func() { started <- struct{}{} }
	s.udp = &mdns.Server{PacketConn: pc, Handler: s, NotifyStartedFunc: notify}
	s.tcp = &mdns.Server{Listener: ln, Handler: s, NotifyStartedFunc: notify}
	errs := make(chan error, 2)
	for _, srv := range []*mdns.Server{s.udp, s.tcp} {
		s.done.Add(1)
		go func() {
			defer s.done.Done()
			if err := srv.ActivateAndServe(); err != nil {
				errs <- err
			}
		}()
	}
	for range 2 {
		select {
		case <-started:
		case err := <-errs:
			pc.Close()
			ln.Close()
			s.done.Wait()
			t.Fatalf("dnstest: serve: %v", err)
		}
	}
	t.Cleanup(s.Close)
	return s
}

// listenPair binds UDP and TCP on the same free 127.0.0.1 port: it takes a
// UDP port the kernel picks and tries TCP on it, again with another port
// when that one is taken for TCP.
func listenPair() (net.PacketConn, net.Listener, error) {
	var last error
	for range 100 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		last = err
	}
	return nil, nil, fmt.Errorf("no port free for both UDP and TCP: %w", last)
}

// Addr is the server's "127.0.0.1:port", the same for UDP and TCP.
func (s *Server) Addr() string { return s.addr }

// Close stops both listeners and waits until every goroutine of the
// server has returned. A query still waiting for an answer gets none.
// Calling it again does nothing.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		err := errors.Join(
			s.udp.ShutdownContext(context.Background()),
			s.tcp.ShutdownContext(context.Background()),
		)
		s.done.Wait()
		if err != nil {
			s.t.Errorf("dnstest: close: %v", err)
		}
	})
}
