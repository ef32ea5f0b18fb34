package dns

import (
	"slices"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/lbtrust/lb/discovery"
	"github.com/lbtrust/lb/discovery/discoverytest"
	"github.com/lbtrust/lb/internal/dnstest"
)

// deadline bounds every wait of these tests: generous, for a loaded box.
const deadline = 30 * time.Second

// run is a source running against a dnstest server.
type run struct {
	sink *discoverytest.Recorder
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
	r := &run{sink: discoverytest.NewRecorder(t), logs: logs}
	discoverytest.Run(t, s, r.sink, deadline)
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
	var evs []discoverytest.Call
	cond := func() bool {
		evs = r.sink.Calls()
		return len(evs) > 0 && !evs[len(evs)-1].Failed && slices.Equal(evs[len(evs)-1].Targets, want)
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
func (r *run) waitFail(t *testing.T, n int) discoverytest.Call {
	t.Helper()
	var got discoverytest.Call
	waitFor(t, "Fail", func() bool {
		for _, e := range r.sink.Calls()[n:] {
			if e.Failed {
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
	for _, e := range r.sink.Calls() {
		if e.Failed {
			n++
		}
	}
	return n
}

// tg is a target.
func tg(addr string, weight int) discovery.Target {
	return discovery.Target{Address: addr, Weight: weight}
}
