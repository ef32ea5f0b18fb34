// Package etcdtest runs a real, single-member etcd server inside a test
// process (go.etcd.io/etcd/server/v3/embed) on 127.0.0.1, for the tests of
// the etcd discovery source and of `lb register`.
//
// A Server listens for clients and peers on two loopback ports below the
// kernel's ephemeral range (internal/freeport) and keeps its data in a
// directory of t.TempDir(), so Stop and Restart bring the same member back
// on the same ports with the same keys and revisions: clients see an etcd
// restart, not a new cluster. etcd's own logging is discarded; every
// failure is returned to the test instead.
//
// Stop returns only after the member's goroutines have ended (embed's
// Close waits for them), so a test package that uses it needs no goleak
// exception: leakcheck.VerifyTestMain holds it as any other.
package etcdtest

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/lbtrust/lb/internal/freeport"
)

// StartTimeout bounds how long Start and Restart wait for the member to be
// ready to serve (elected leader of its own one-member cluster). Generous:
// the test machine is small and shared.
const StartTimeout = time.Minute

// Server is one embedded etcd member. Its methods fail the test (t.Fatal)
// on error, so they must be called from the test's goroutine. Start
// registers a cleanup that stops the member and closes the client.
type Server struct {
	t       testing.TB
	dir     string
	client  url.URL
	peer    url.URL
	mu      sync.Mutex
	etcd    *embed.Etcd // nil while stopped
	cli     *clientv3.Client
	extra   []*clientv3.Client
	started int
}

// Start starts a member on free 127.0.0.1 ports with a fresh data
// directory, waits until it serves, and returns it. Stop, Restart and the
// clients it made are cleaned up at the end of the test.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, dir: filepath.Join(t.TempDir(), "etcd")}
	var err error
	// A port picked free can be taken by another process before etcd binds
	// it: pick again a few times.
	for try := 0; try < 5; try++ {
		var addrs []string
		if addrs, err = freeport.Loopback(2); err != nil {
			break
		}
		s.client = url.URL{Scheme: "http", Host: addrs[0]}
		s.peer = url.URL{Scheme: "http", Host: addrs[1]}
		if err = s.start(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("etcdtest: starting etcd: %v", err)
	}
	t.Cleanup(s.cleanup)
	s.cli = s.NewClient()
	return s
}

// start launches the member on s's ports and data directory and waits for
// it to be ready.
func (s *Server) start() error {
	e, err := Embed("etcdtest", s.dir, s.client, s.peer)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.etcd = e
	s.started++
	s.mu.Unlock()
	return nil
}

// Endpoints returns the member's client URL, "http://127.0.0.1:PORT", the
// same across Restart.
func (s *Server) Endpoints() []string { return []string{s.client.String()} }

// Addr returns the member's client address, "127.0.0.1:PORT".
func (s *Server) Addr() string { return s.client.Host }

// Client returns a client of the member made by Start; it reconnects by
// itself across Restart. Closed at the end of the test.
func (s *Server) Client() *clientv3.Client { return s.cli }

// NewClient returns a new client of the member, closed at the end of the
// test (or earlier by the caller; closing twice is harmless).
func (s *Server) NewClient() *clientv3.Client {
	s.t.Helper()
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   s.Endpoints(),
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		s.t.Fatalf("etcdtest: client: %v", err)
	}
	s.mu.Lock()
	s.extra = append(s.extra, c)
	s.mu.Unlock()
	return c
}

// Stop stops the member (its clients see an unreachable etcd) and keeps
// its data directory. Stopping a stopped member does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	e := s.etcd
	s.etcd = nil
	s.mu.Unlock()
	if e == nil {
		return
	}
	e.Close()
	<-e.Server.StopNotify()
}

// Restart stops the member if it runs, then starts it again on the same
// ports with the same data directory, and waits until it serves.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	// The old member's ports may linger a moment after Close on a loaded
	// machine: retry the bind for a while.
	deadline := time.Now().Add(StartTimeout)
	for {
		err := s.start()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("etcdtest: restarting etcd: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Running reports whether the member is started.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.etcd != nil
}

// Compact compacts the member's history up to rev, physically (it returns
// once the old revisions are gone from the backend), so a watch that asks
// for a revision at or below rev is answered ErrCompacted.
func (s *Server) Compact(rev int64) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.cli.Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil {
		s.t.Fatalf("etcdtest: compact to %d: %v", rev, err)
	}
}

// Revision returns the member's current revision.
func (s *Server) Revision() int64 {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := s.cli.Get(ctx, "\x00", clientv3.WithCountOnly())
	if err != nil {
		s.t.Fatalf("etcdtest: revision: %v", err)
	}
	return r.Header.Revision
}

// cleanup closes every client, then stops the member.
func (s *Server) cleanup() {
	s.mu.Lock()
	clients := s.extra
	s.extra = nil
	s.mu.Unlock()
	for _, c := range clients {
		c.Close()
	}
	s.Stop()
}

// Embed starts a one-member etcd cluster named name in this process,
// serving clients on client and peers on peer (http URLs, 127.0.0.1 in
// this project), its data in dir, and returns once it is ready (within
// StartTimeout) or why it is not. etcd's own logging is discarded. No
// fsync: dir is meant to be temporary, and fsync on a loaded disk would
// only slow every write. The HTTP gateway is off (fewer listeners, fewer
// goroutines). Close the result to stop it. Used by Server and by the
// benchmarks that run etcd themselves (bench/sharedchecks).
func Embed(name, dir string, client, peer url.URL) (*embed.Etcd, error) {
	cfg := embed.NewConfig()
	cfg.Name = name
	cfg.Dir = dir
	cfg.ListenClientUrls = []url.URL{client}
	cfg.AdvertiseClientUrls = []url.URL{client}
	cfg.ListenPeerUrls = []url.URL{peer}
	cfg.AdvertisePeerUrls = []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.Logger = "zap"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cfg.UnsafeNoFsync = true
	cfg.EnableGRPCGateway = false
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("etcd failed while starting: %v", err)
	case <-time.After(StartTimeout):
		e.Close()
		return nil, fmt.Errorf("etcd not ready within %s", StartTimeout)
	}
}
