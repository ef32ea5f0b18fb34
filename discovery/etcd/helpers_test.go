package etcd

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/lbtrust/lb/discovery"
	"github.com/lbtrust/lb/discovery/discoverytest"
	"github.com/lbtrust/lb/internal/etcdtest"
)

// wait is how long a test waits for what should happen in well under a
// second: the machine is small and shared.
const wait = 30 * time.Second

// waitFor polls until r's last Update equals want.
func waitFor(t *testing.T, r *discoverytest.Recorder, want ...discovery.Target) {
	t.Helper()
	if want == nil {
		want = []discovery.Target{}
	}
	eventually(t, fmt.Sprintf("last update %v", want), func() bool {
		got, ok := r.Last()
		return ok && slices.Equal(got, want)
	})
	if got, _ := r.Last(); got == nil {
		t.Fatal("an Update with a nil slice; want an empty one")
	}
}

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

// run starts s.Run with a recorder and stops it at cleanup, checking
// that Run returns promptly once its context ends.
func run(t *testing.T, s *Source) *discoverytest.Recorder {
	t.Helper()
	r := discoverytest.NewRecorder(t)
	discoverytest.Run(t, s, r, wait)
	return r
}

// newSource makes a source of srv's prefix, logging to an observer that
// keeps warnings and above.
func newSource(t *testing.T, srv *etcdtest.Server, prefix string) (*Source, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zap.WarnLevel)
	s, err := New(Config{Endpoints: srv.Endpoints(), Prefix: prefix}, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	return s, logs
}

// put writes key=val through srv's client.
func put(t *testing.T, srv *etcdtest.Server, key, val string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	r, err := srv.Client().Put(ctx, key, val)
	if err != nil {
		t.Fatal(err)
	}
	return r.Header.Revision
}

// del deletes key through srv's client.
func del(t *testing.T, srv *etcdtest.Server, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := srv.Client().Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
}

// tg is a target, for brevity.
func tg(addr string, weight int) discovery.Target {
	return discovery.Target{Address: addr, Weight: weight}
}
