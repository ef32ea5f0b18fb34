package etcdtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/lbtrust/lb/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }

func TestPutGetRestartKeepsDataAndPorts(t *testing.T) {
	s := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := s.Client()
	if _, err := c.Put(ctx, "/k", "v1"); err != nil {
		t.Fatal(err)
	}
	endpoints := s.Endpoints()[0]
	s.Restart()
	if got := s.Endpoints()[0]; got != endpoints {
		t.Fatalf("endpoints changed across restart: %s, then %s", endpoints, got)
	}
	r, err := c.Get(ctx, "/k")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Kvs) != 1 || string(r.Kvs[0].Value) != "v1" {
		t.Fatalf("after restart: %v", r.Kvs)
	}
}

func TestStopMakesTheMemberUnreachable(t *testing.T) {
	s := Start(t)
	s.Stop()
	if s.Running() {
		t.Fatal("running after Stop")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := s.Client().Get(ctx, "/k"); err == nil {
		t.Fatal("Get succeeded on a stopped member")
	}
	s.Restart()
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Minute)
	defer cancel2()
	if _, err := s.Client().Get(ctx2, "/k"); err != nil {
		t.Fatal(err)
	}
}

func TestCompactMakesOldRevisionsUnwatchable(t *testing.T) {
	s := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := s.Client()
	first, err := c.Put(ctx, "/k", "1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(ctx, "/k", "2"); err != nil {
		t.Fatal(err)
	}
	s.Compact(s.Revision())
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	resp := <-c.Watch(wctx, "/k", clientv3.WithRev(first.Header.Revision))
	if !errors.Is(resp.Err(), rpctypes.ErrCompacted) {
		t.Fatalf("watch from a compacted revision: err %v, compact revision %d", resp.Err(), resp.CompactRevision)
	}
}
