// Package discoverytest helps test discovery sources: a Sink that records
// every call, and a way to run a source for the length of a test. For
// tests only.
package discoverytest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lbtrust/lb/discovery"
)

// Call is one call a source made to its sink: an Update of Targets, or a
// Fail (Failed) with Err.
type Call struct {
	Targets []discovery.Target
	Failed  bool
	Err     error
}

// String is "Update([...])" or "Fail(err)".
func (c Call) String() string {
	if c.Failed {
		return fmt.Sprintf("Fail(%v)", c.Err)
	}
	return fmt.Sprintf("Update(%v)", c.Targets)
}

// Recorder is a discovery.Sink that keeps every call in order, and fails
// its test if two calls overlap (a source must not make them
// concurrently). Safe for concurrent use.
type Recorder struct {
	t     testing.TB
	mu    sync.Mutex
	calls []Call
	busy  bool
}

// NewRecorder returns an empty Recorder reporting to t.
func NewRecorder(t testing.TB) *Recorder { return &Recorder{t: t} }

// Update records an Update.
func (r *Recorder) Update(targets []discovery.Target) { r.record(Call{Targets: targets}) }

// Fail records a Fail.
func (r *Recorder) Fail(err error) { r.record(Call{Failed: true, Err: err}) }

func (r *Recorder) record(c Call) {
	r.mu.Lock()
	if r.busy {
		r.t.Error("Sink called concurrently")
	}
	r.busy = true
	r.calls = append(r.calls, c)
	r.busy = false
	r.mu.Unlock()
}

// Calls returns the calls so far.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// Last returns the last Update's targets, and whether there was one.
func (r *Recorder) Last() ([]discovery.Target, bool) {
	calls := r.Calls()
	for i := len(calls) - 1; i >= 0; i-- {
		if !calls[i].Failed {
			return calls[i].Targets, true
		}
	}
	return nil, false
}

// Fails returns the errors of every Fail so far.
func (r *Recorder) Fails() []error {
	var out []error
	for _, c := range r.Calls() {
		if c.Failed {
			out = append(out, c.Err)
		}
	}
	return out
}

// Source is what Run runs: discovery/dns's and discovery/etcd's Source.
type Source interface {
	Run(ctx context.Context, sink discovery.Sink)
}

// Run runs src with sink until the test ends; the test's cleanup ends
// its context and fails the test unless Run returns within wait.
func Run(t testing.TB, src Source, sink discovery.Sink, wait time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		src.Run(ctx, sink)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(wait):
			t.Errorf("Run did not return within %s of its context's end", wait)
		}
	})
}
