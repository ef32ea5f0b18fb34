package etcd

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/lbtrust/lb/discovery"
	"github.com/lbtrust/lb/internal/etcdtest"
)

// wait is how long a test waits for what should happen in well under a
// second: the machine is small and shared.
const wait = 30 * time.Second

// recorder is a Sink that keeps every call, in order.
type recorder struct {
	mu     sync.Mutex
	calls  []call
	active bool // a call is running: Sink calls must not overlap
	t      *testing.T
}

// call is one Sink call: an Update (err nil) or a Fail.
type call struct {
	targets []discovery.Target
	err     error
}

func (r *recorder) Update(targets []discovery.Target) { r.record(call{targets: targets}) }
func (r *recorder) Fail(err error)                    { r.record(call{err: err}) }

func (r *recorder) record(c call) {
	r.mu.Lock()
	if r.active {
		r.t.Error("Sink called concurrently")
	}
	r.calls = append(r.calls, c)
	r.mu.Unlock()
}

// snapshot returns the calls so far.
func (r *recorder) snapshot() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// last returns the last Update's targets, and whether there was one.
func (r *recorder) last() ([]discovery.Target, bool) {
	calls := r.snapshot()
	for i := len(calls) - 1; i >= 0; i-- {
		if calls[i].err == nil {
			return calls[i].targets, true
		}
	}
	return nil, false
}

// fails returns the errors of every Fail so far.
func (r *recorder) fails() []error {
	var out []error
	for _, c := range r.snapshot() {
		if c.err != nil {
			out = append(out, c.err)
		}
	}
	return out
}

// waitFor polls until the last Update equals want.
func (r *recorder) waitFor(t *testing.T, want ...discovery.Target) {
	t.Helper()
	if want == nil {
		want = []discovery.Target{}
	}
	eventually(t, fmt.Sprintf("last update %v", want), func() bool {
		got, ok := r.last()
		return ok && slices.Equal(got, want)
	})
	if got, _ := r.last(); got == nil {
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
func run(t *testing.T, s *Source) *recorder {
	t.Helper()
	r := &recorder{t: t}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx, r)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(wait):
			t.Errorf("Run did not return within %s of its context's end", wait)
		}
	})
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
