package dns

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
	"github.com/lbtrust/lb/internal/dnstest"
)

// deadline bounds every wait of these tests: generous, for a loaded box.
const deadline = 30 * time.Second

// event is one call a source made to a sink.
type event struct {
	fail    bool
	err     error
	targets []discovery.Target
}

func (e event) String() string {
	if e.fail {
		return fmt.Sprintf("Fail(%v)", e.err)
	}
	return fmt.Sprintf("Update(%v)", e.targets)
}

// recSink records every call, for tests to poll. Safe for concurrent use.
type recSink struct {
	mu     sync.Mutex
	events []event
}

func (r *recSink) Update(targets []discovery.Target) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, event{targets: targets})
}

func (r *recSink) Fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, event{fail: true, err: err})
}

// all is a copy of the events so far.
func (r *recSink) all() []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// run is a source running against a dnstest server.
type run struct {
	sink *recSink
	logs *observer.ObservedLogs
}

// start makes a source of cfg (Resolver defaults to srv's address) and
// runs it until the test ends; cleanup waits for Run to return.
func start(t *testing.T, srv *dnstest.Server, cfg Config) *run {
	t.Helper()
	if cfg.Resolver == "" {
		cfg.Resolver = srv.Addr()
	}
	core, logs := observer.New(zap.DebugLevel)
	s, err := New(cfg, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	r := &run{sink: &recSink{}, logs: logs}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx, r.sink)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(deadline):
			t.Errorf("Run did not return %v after its context ended", deadline)
		}
	})
	return r
}

// waitFor polls cond until it holds, failing the test after deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("no %s within %v", what, deadline)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitSet waits until the sink's last event is an Update of want, and
// returns the number of events then.
func (r *run) waitSet(t *testing.T, want ...discovery.Target) int {
	t.Helper()
	var evs []event
	cond := func() bool {
		evs = r.sink.all()
		return len(evs) > 0 && !evs[len(evs)-1].fail && slices.Equal(evs[len(evs)-1].targets, want)
	}
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("no Update(%v) within %v; events: %v", want, deadline, evs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return len(evs)
}

// waitFail waits until the sink got a Fail after its first n events, and
// returns it.
func (r *run) waitFail(t *testing.T, n int) event {
	t.Helper()
	var got event
	waitFor(t, "Fail", func() bool {
		for _, e := range r.sink.all()[n:] {
			if e.fail {
				got = e
				return true
			}
		}
		return false
	})
	return got
}

// fails counts the Fail events.
func (r *run) fails() int {
	n := 0
	for _, e := range r.sink.all() {
		if e.fail {
			n++
		}
	}
	return n
}

// tg is a target.
func tg(addr string, weight int) discovery.Target {
	return discovery.Target{Address: addr, Weight: weight}
}
