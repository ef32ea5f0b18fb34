package etcd

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/lbtrust/lb/internal/etcdtest"
	"github.com/lbtrust/lb/internal/freeport"
)

func TestNewRefusesABadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		err  string
	}{
		{"no endpoints", Config{Prefix: "/p/"}, "no endpoints"},
		{"empty endpoint", Config{Endpoints: []string{""}, Prefix: "/p/"}, "an empty endpoint"},
		{"no prefix", Config{Endpoints: []string{"127.0.0.1:2379"}}, "empty prefix"},
		{"username alone", Config{Endpoints: []string{"127.0.0.1:2379"}, Prefix: "/p/", Username: "u"}, "without a password"},
		{"negative dial timeout", Config{Endpoints: []string{"127.0.0.1:2379"}, Prefix: "/p/", DialTimeout: -time.Second}, "must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("New: %v, want an error with %q", err, tc.err)
			}
		})
	}
	s, err := New(Config{Endpoints: []string{"127.0.0.1:2379"}, Prefix: "/p/"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.cfg.DialTimeout != DefaultDialTimeout {
		t.Fatalf("dial timeout %s, want the default %s", s.cfg.DialTimeout, DefaultDialTimeout)
	}
}

func TestInitialSetThenAddChangeDelete(t *testing.T) {
	srv := etcdtest.Start(t)
	put(t, srv, "/lb/web/a", `{"address":"10.0.0.1:80"}`)
	put(t, srv, "/lb/web/b", `{"address":"10.0.0.2:80","weight":3}`)
	put(t, srv, "/lb/other/c", `{"address":"10.0.0.9:80"}`) // another prefix
	s, logs := newSource(t, srv, "/lb/web/")
	r := run(t, s)
	waitFor(t, r, tg("10.0.0.1:80", 1), tg("10.0.0.2:80", 3))

	put(t, srv, "/lb/web/c", `{"address":"10.0.0.3:80"}`)
	waitFor(t, r, tg("10.0.0.1:80", 1), tg("10.0.0.2:80", 3), tg("10.0.0.3:80", 1))

	put(t, srv, "/lb/web/b", `{"address":"10.0.0.2:80","weight":5}`)
	waitFor(t, r, tg("10.0.0.1:80", 1), tg("10.0.0.2:80", 5), tg("10.0.0.3:80", 1))

	del(t, srv, "/lb/web/a")
	waitFor(t, r, tg("10.0.0.2:80", 5), tg("10.0.0.3:80", 1))

	del(t, srv, "/lb/web/b")
	del(t, srv, "/lb/web/c")
	waitFor(t, r) // no keys: an authoritative empty set

	if f := r.Fails(); len(f) != 0 {
		t.Fatalf("Fail called: %v", f)
	}
	if n := logs.Len(); n != 0 {
		t.Fatalf("%d warnings: %v", n, logs.All())
	}
}

func TestAnEmptyPrefixIsAnEmptySet(t *testing.T) {
	srv := etcdtest.Start(t)
	s, _ := newSource(t, srv, "/lb/none/")
	r := run(t, s)
	waitFor(t, r)
}

func TestTwoKeysOfOneAddressAreOneBackendWithTheFirstKeysWeight(t *testing.T) {
	srv := etcdtest.Start(t)
	put(t, srv, "/lb/web/b", `{"address":"10.0.0.1:80","weight":2}`)
	put(t, srv, "/lb/web/a", `{"address":"10.0.0.1:80","weight":7}`)
	s, _ := newSource(t, srv, "/lb/web/")
	r := run(t, s)
	waitFor(t, r, tg("10.0.0.1:80", 7))
	del(t, srv, "/lb/web/a")
	waitFor(t, r, tg("10.0.0.1:80", 2))
}

func TestABadValueIsLoggedWithItsKeyAndTheOthersApply(t *testing.T) {
	srv := etcdtest.Start(t)
	put(t, srv, "/lb/web/good", `{"address":"10.0.0.1:80"}`)
	put(t, srv, "/lb/web/json", `{"address":`)
	put(t, srv, "/lb/web/name", `{"address":"web.internal:80"}`)
	put(t, srv, "/lb/web/weight", `{"address":"10.0.0.3:80","weight":0}`)
	s, logs := newSource(t, srv, "/lb/web/")
	r := run(t, s)
	waitFor(t, r, tg("10.0.0.1:80", 1))
	warned := func(key string) bool {
		return logs.FilterMessageSnippet("bad value").FilterField(zap.String("key", key)).Len() > 0
	}
	for _, key := range []string{"/lb/web/json", "/lb/web/name", "/lb/web/weight"} {
		if !warned(key) {
			t.Errorf("no warning with key %s; logs: %v", key, logs.All())
		}
	}

	// A good key turning bad is removed; a new good key still applies.
	put(t, srv, "/lb/web/later", `{"address":"10.0.0.4:80"}`)
	put(t, srv, "/lb/web/good", `not json`)
	waitFor(t, r, tg("10.0.0.4:80", 1))
	eventually(t, "a warning for /lb/web/good", func() bool { return warned("/lb/web/good") })
	if f := r.Fails(); len(f) != 0 {
		t.Fatalf("a bad value made Fail: %v", f)
	}
}

func TestAKeyWhoseLeaseExpiresDisappears(t *testing.T) {
	srv := etcdtest.Start(t)
	s, _ := newSource(t, srv, "/lb/web/")
	r := run(t, s)
	waitFor(t, r)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	lease, err := srv.Client().Grant(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Client().Put(ctx, "/lb/web/x", `{"address":"10.0.0.1:80"}`, clientv3.WithLease(lease.ID)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, r, tg("10.0.0.1:80", 1))
	// Nobody keeps the lease alive: etcd deletes the key after its TTL.
	waitFor(t, r)
}

// TestACompactedWatchReadsAgain: the history the watch needs is
// compacted away before it starts (the hook runs between the read at R
// and the watch from R+1), so etcd cancels the watch with ErrCompacted:
// Fail, the last set stays, then a new read finds what changed.
func TestACompactedWatchReadsAgain(t *testing.T) {
	srv := etcdtest.Start(t)
	put(t, srv, "/lb/web/a", `{"address":"10.0.0.1:80"}`)
	s, _ := newSource(t, srv, "/lb/web/")
	cli := srv.NewClient()
	hooked := false
	s.afterRead = func(rev int64) {
		if hooked {
			return
		}
		hooked = true
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if _, err := cli.Put(ctx, "/lb/web/b", `{"address":"10.0.0.2:80"}`); err != nil {
			t.Error(err)
		}
		r, err := cli.Put(ctx, "/lb/web/c", `{"address":"10.0.0.3:80"}`)
		if err != nil {
			t.Error(err)
			return
		}
		if _, err := cli.Compact(ctx, r.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
			t.Error(err)
		}
	}
	r := run(t, s)
	waitFor(t, r, tg("10.0.0.1:80", 1), tg("10.0.0.2:80", 1), tg("10.0.0.3:80", 1))
	calls := r.Calls()
	if len(calls) < 3 || calls[0].Failed || !calls[1].Failed {
		t.Fatalf("calls %+v: want Update, Fail, Update", calls)
	}
	if !errors.Is(calls[1].Err, rpctypes.ErrCompacted) {
		t.Fatalf("Fail(%v), want ErrCompacted", calls[1].Err)
	}
	if len(calls[0].Targets) != 1 {
		t.Fatalf("first update %v, want only a", calls[0].Targets)
	}
}

// TestEtcdRestart: a stopped etcd is a Fail (the watch goes silent), the
// last set stays in force (no Update meanwhile), and once etcd is back a
// new read picks up what changed.
func TestEtcdRestart(t *testing.T) {
	srv := etcdtest.Start(t)
	put(t, srv, "/lb/web/a", `{"address":"10.0.0.1:80"}`)
	put(t, srv, "/lb/web/b", `{"address":"10.0.0.2:80"}`)
	s, _ := newSource(t, srv, "/lb/web/")
	r := run(t, s)
	waitFor(t, r, tg("10.0.0.1:80", 1), tg("10.0.0.2:80", 1))

	srv.Stop()
	eventually(t, "Fail after etcd stopped", func() bool { return len(r.Fails()) > 0 })
	before := len(r.Calls())
	// Several probes and reads fail meanwhile; none may empty the set.
	time.Sleep(3 * ProbeInterval)
	for _, c := range r.Calls()[before:] {
		if !c.Failed {
			t.Fatalf("Update(%v) while etcd was down", c.Targets)
		}
	}

	srv.Restart()
	del(t, srv, "/lb/web/a")
	put(t, srv, "/lb/web/c", `{"address":"10.0.0.3:80"}`)
	waitFor(t, r, tg("10.0.0.2:80", 1), tg("10.0.0.3:80", 1))
	// And the watch works again.
	put(t, srv, "/lb/web/d", `{"address":"10.0.0.4:80"}`)
	waitFor(t, r, tg("10.0.0.2:80", 1), tg("10.0.0.3:80", 1), tg("10.0.0.4:80", 1))
}

// TestEtcdStoppingBeforeTheWatchOpensIsAFail: etcd stops between the
// read and the watch that follows it (the client's Watch would wait for
// its stream without end): a Fail, then the set comes back with etcd.
func TestEtcdStoppingBeforeTheWatchOpensIsAFail(t *testing.T) {
	srv := etcdtest.Start(t)
	put(t, srv, "/lb/web/a", `{"address":"10.0.0.1:80"}`)
	s, _ := newSource(t, srv, "/lb/web/")
	var once sync.Once
	s.afterRead = func(int64) { once.Do(srv.Stop) }
	r := run(t, s)
	eventually(t, "Fail after etcd stopped before the watch", func() bool { return len(r.Fails()) > 0 })
	srv.Restart()
	put(t, srv, "/lb/web/b", `{"address":"10.0.0.2:80"}`)
	waitFor(t, r, tg("10.0.0.1:80", 1), tg("10.0.0.2:80", 1))
}

// TestAnUnreachableEtcdFailsAndRunStillReturns: nothing listens; Run
// fails (never an Update) and returns when its context ends.
func TestAnUnreachableEtcdFailsAndRunStillReturns(t *testing.T) {
	addrs, err := freeport.Loopback(1)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Endpoints: addrs, Prefix: "/lb/web/", DialTimeout: time.Second}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, s)
	eventually(t, "a Fail", func() bool { return len(r.Fails()) >= 1 })
	if _, ok := r.Last(); ok {
		t.Fatal("an Update without an etcd")
	}
}
