package fleet

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/lbtrust/lb/internal/etcdtest"
)

// wait is how long a test waits for what should happen in well under a
// second: the machine is small and shared.
const wait = 30 * time.Second

// eventually polls cond every 20 ms until it holds, failing the test
// after wait.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true within %s", what, wait)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// history records every view a Membership took, through its onSet hook.
type history struct {
	mu    sync.Mutex
	views [][]string
}

func (h *history) record(members []string, connected bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if connected {
		h.views = append(h.views, members)
	}
}

// sawWithout reports whether a connected view lacked name.
func (h *history) sawWithout(name string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, v := range h.views {
		if !slices.Contains(v, name) {
			return true
		}
	}
	return false
}

// member is a started Membership and the way to stop it.
type member struct {
	*Membership
	stop func()
	hist *history
}

// start starts a Membership named name of srv's fleet prefix, and stops
// it at cleanup, checking that it ends promptly.
func start(t *testing.T, srv *etcdtest.Server, prefix, name string, ttl time.Duration) *member {
	t.Helper()
	m, err := New(Config{Endpoints: srv.Endpoints(), Prefix: prefix, Name: name, TTL: ttl}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	h := &history{}
	m.onSet = h.record
	ctx, cancel := context.WithCancel(context.Background())
	m.Start(ctx)
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case <-m.Done():
			case <-time.After(wait):
				t.Errorf("member %s did not stop within %s", name, wait)
			}
		})
	}
	t.Cleanup(stop)
	return &member{Membership: m, stop: stop, hist: h}
}

// sees waits until m is connected and its view is want.
func sees(t *testing.T, m *member, want ...string) {
	t.Helper()
	eventually(t, m.Name()+" sees "+strings.Join(want, ","), func() bool {
		return m.Connected() && slices.Equal(m.Members(), want)
	})
}

func TestNewRefusesABadConfig(t *testing.T) {
	ok := Config{Endpoints: []string{"127.0.0.1:2379"}, Prefix: "/lb/fleet/", Name: "lb-1"}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		err  string
	}{
		{"no endpoints", func(c *Config) { c.Endpoints = nil }, "no endpoints"},
		{"empty endpoint", func(c *Config) { c.Endpoints = []string{""} }, "an empty endpoint"},
		{"no prefix", func(c *Config) { c.Prefix = "" }, "empty prefix"},
		{"no name", func(c *Config) { c.Name = "" }, "empty member name"},
		{"slash in name", func(c *Config) { c.Name = "a/b" }, "must not contain /"},
		{"negative ttl", func(c *Config) { c.TTL = -time.Second }, "whole seconds"},
		{"ttl below a second", func(c *Config) { c.TTL = 500 * time.Millisecond }, "whole seconds"},
		{"ttl not whole seconds", func(c *Config) { c.TTL = 1500 * time.Millisecond }, "whole seconds"},
		{"username alone", func(c *Config) { c.Username = "u" }, "without a password"},
		{"negative dial timeout", func(c *Config) { c.DialTimeout = -time.Second }, "must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.edit(&cfg)
			_, err := New(cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("New: %v, want an error with %q", err, tc.err)
			}
		})
	}
	m, err := New(ok, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.TTL() != DefaultTTL || m.cfg.DialTimeout != DefaultDialTimeout {
		t.Fatalf("ttl %s, dial timeout %s; want the defaults %s, %s", m.TTL(), m.cfg.DialTimeout, DefaultTTL, DefaultDialTimeout)
	}
	if got := m.Members(); !slices.Equal(got, []string{"lb-1"}) || m.Connected() {
		t.Fatalf("before Start: members %v, connected %v; want just self, not connected", got, m.Connected())
	}
}

func TestMembersSeeEachOtherAndAStoppedOneLeaves(t *testing.T) {
	srv := etcdtest.Start(t)
	const prefix = "/lb/fleet/test/"
	// A long TTL: a member that leaves within the test's wait left by
	// revocation, not by expiry.
	const ttl = 60 * time.Second
	begin := time.Now()
	a := start(t, srv, prefix, "lb-a", ttl)
	b := start(t, srv, prefix, "lb-b", ttl)
	c := start(t, srv, prefix, "lb-c", ttl)
	for _, m := range []*member{a, b, c} {
		sees(t, m, "lb-a", "lb-b", "lb-c")
	}
	t.Logf("three members saw each other %s after starting", time.Since(begin).Round(time.Millisecond))

	select {
	case <-a.Changed(): // drain what the joins signaled
	default:
	}
	c.stop()
	// The stopped member's key is gone once it has stopped: revoked.
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	r, err := srv.Client().Get(ctx, prefix+"members/lb-c")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Kvs) != 0 {
		t.Fatalf("lb-c's key still there after it stopped: %v", r.Kvs)
	}
	if c.Connected() || !slices.Equal(c.Members(), []string{"lb-c"}) {
		t.Fatalf("stopped member: connected %v, members %v; want false, just itself", c.Connected(), c.Members())
	}
	left := time.Now()
	sees(t, a, "lb-a", "lb-b")
	sees(t, b, "lb-a", "lb-b")
	t.Logf("the others saw lb-c leave %s after it stopped", time.Since(left).Round(time.Millisecond))
	select {
	case <-a.Changed():
	case <-time.After(wait):
		t.Fatal("Changed did not signal lb-c leaving")
	}
	// Keys under the prefix that are not members are ignored.
	if _, err := srv.Client().Put(ctx, prefix+"members/x/y", "nested"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Client().Put(ctx, prefix+"members/lb-z", "lb-z"); err != nil {
		t.Fatal(err)
	}
	sees(t, a, "lb-a", "lb-b", "lb-z")
}

func TestAMemberWhoseLeaseIsRevokedLeavesAndComesBack(t *testing.T) {
	srv := etcdtest.Start(t)
	const prefix = "/lb/fleet/test/"
	a := start(t, srv, prefix, "lb-a", 2*time.Second)
	b := start(t, srv, prefix, "lb-b", 2*time.Second)
	sees(t, a, "lb-a", "lb-b")
	sees(t, b, "lb-a", "lb-b")

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	key := prefix + "members/lb-b"
	r, err := srv.Client().Get(ctx, key)
	if err != nil || len(r.Kvs) != 1 {
		t.Fatalf("reading %s: %v %v", key, r, err)
	}
	old := clientv3.LeaseID(r.Kvs[0].Lease)
	if _, err := srv.Client().Revoke(ctx, old); err != nil {
		t.Fatal(err)
	}
	// lb-a saw lb-b gone (a view of its history), then lb-b registers
	// again under a new lease.
	eventually(t, "lb-a saw lb-b leave", func() bool { return a.hist.sawWithout("lb-b") })
	eventually(t, "lb-b re-registered under a new lease", func() bool {
		r, err := srv.Client().Get(ctx, key)
		return err == nil && len(r.Kvs) == 1 && clientv3.LeaseID(r.Kvs[0].Lease) != old
	})
	sees(t, a, "lb-a", "lb-b")
	sees(t, b, "lb-a", "lb-b")
}

func TestEtcdDownThenBack(t *testing.T) {
	srv := etcdtest.Start(t)
	const prefix = "/lb/fleet/test/"
	a := start(t, srv, prefix, "lb-a", 2*time.Second)
	b := start(t, srv, prefix, "lb-b", 2*time.Second)
	sees(t, a, "lb-a", "lb-b")
	sees(t, b, "lb-a", "lb-b")

	srv.Stop()
	down := time.Now()
	for _, m := range []*member{a, b} {
		eventually(t, m.Name()+" not connected", func() bool {
			return !m.Connected() && slices.Equal(m.Members(), []string{m.Name()})
		})
	}
	t.Logf("both noticed etcd down %s after it stopped", time.Since(down).Round(time.Millisecond))

	srv.Restart()
	sees(t, a, "lb-a", "lb-b")
	sees(t, b, "lb-a", "lb-b")
}

// TestEtcdStoppingBeforeTheWatchOpens: etcd stops between the read and
// the watch that follows it (the client's Watch would wait for its stream
// without end): the member still notices it is alone, and comes back.
func TestEtcdStoppingBeforeTheWatchOpens(t *testing.T) {
	srv := etcdtest.Start(t)
	const prefix = "/lb/fleet/test/"
	m, err := New(Config{Endpoints: srv.Endpoints(), Prefix: prefix, Name: "lb-a", TTL: 2 * time.Second}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	m.afterRead = func(int64) { once.Do(srv.Stop) }
	ctx, cancel := context.WithCancel(context.Background())
	m.Start(ctx)
	defer func() {
		cancel()
		<-m.Done()
	}()
	eventually(t, "the hook stopped etcd", func() bool { return !srv.Running() })
	eventually(t, "not connected after etcd stopped before the watch", func() bool { return !m.Connected() })
	srv.Restart()
	eventually(t, "connected again", m.Connected)
}

func TestStopWhileEtcdIsDown(t *testing.T) {
	srv := etcdtest.Start(t)
	a := start(t, srv, "/lb/fleet/test/", "lb-a", 2*time.Second)
	sees(t, a, "lb-a")
	srv.Stop()
	a.stop() // must return within wait: the revocation is bounded
	if a.Connected() {
		t.Fatal("connected after stop")
	}
}

func TestCompactedHistoryIsReadAgainWithoutAGap(t *testing.T) {
	srv := etcdtest.Start(t)
	const prefix = "/lb/fleet/test/"
	b := start(t, srv, prefix, "lb-b", 2*time.Second)
	sees(t, b, "lb-b")

	// lb-a's first read is followed, before its watch starts, by a new
	// member and a compaction past it: the watch from R+1 is refused.
	m, err := New(Config{Endpoints: srv.Endpoints(), Prefix: prefix, Name: "lb-a", TTL: 2 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cli := srv.NewClient()
	hookErr := make(chan error, 1)
	var reads sync.Mutex
	n := 0
	var firstLease clientv3.LeaseID // written by the hook before hookErr
	m.afterRead = func(rev int64) {
		reads.Lock()
		n++
		first := n == 1
		reads.Unlock()
		if !first {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		g, err := cli.Get(ctx, prefix+"members/lb-a")
		if err == nil && len(g.Kvs) == 1 {
			firstLease = clientv3.LeaseID(g.Kvs[0].Lease)
		}
		if err == nil {
			_, err = cli.Put(ctx, prefix+"members/lb-x", "lb-x")
		}
		var r *clientv3.PutResponse
		if err == nil {
			r, err = cli.Put(ctx, prefix+"other", "x") // R+2: compact past R+1
		}
		if err == nil {
			_, err = cli.Compact(ctx, r.Header.Revision, clientv3.WithCompactPhysical())
		}
		hookErr <- err
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.Start(ctx)
	t.Cleanup(func() {
		cancel()
		<-m.Done()
	})
	a := &member{Membership: m}
	select {
	case err := <-hookErr:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(wait):
		t.Fatal("lb-a never read the members")
	}
	sees(t, a, "lb-a", "lb-b", "lb-x")
	reads.Lock()
	got := n
	reads.Unlock()
	if got < 2 {
		t.Fatalf("%d reads, want a second after the compaction", got)
	}
	// lb-b saw lb-a join once and never leave: a failed session leaves
	// its lease to expire, and the next one moves the key to its own.
	sees(t, b, "lb-a", "lb-b", "lb-x")
	eventually(t, "lb-a's first lease expired", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		r, err := cli.TimeToLive(ctx, firstLease)
		return err == nil && r.TTL == -1
	})
	sees(t, b, "lb-a", "lb-b", "lb-x")
	b.hist.mu.Lock()
	defer b.hist.mu.Unlock()
	joined := false
	for _, v := range b.hist.views {
		has := slices.Contains(v, "lb-a")
		if joined && !has {
			t.Fatalf("lb-b saw lb-a leave after it joined: %v", b.hist.views)
		}
		joined = joined || has
	}
}
