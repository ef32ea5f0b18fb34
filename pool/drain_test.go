package pool

import (
	"errors"
	"testing"
	"time"
)

// wantTransitions checks the (to, reason) sequence of a recorder's
// transitions from index from on.
func wantTransitions(t *testing.T, rec *recorder, from int, want ...any) {
	t.Helper()
	got := rec.list()[from:]
	if len(got) != len(want)/2 {
		t.Fatalf("transitions %+v, want %v", got, want)
	}
	for i := range got {
		if got[i].To != want[2*i].(State) || got[i].Reason != want[2*i+1].(Reason) {
			t.Fatalf("transition %d = %s (%s), want %s (%s)", i, got[i].To, got[i].Reason, want[2*i], want[2*i+1])
		}
	}
}

func TestAdminDrainHoldsUntilUndrain(t *testing.T) {
	p, bs, rec := newTestPoolWith(t, Options{DeregistrationDelay: time.Hour}, "127.0.0.1:1", "127.0.0.1:2")
	pass(bs[0])
	pass(bs[1])
	b := bs[0]
	// Put a request in flight on b.
	var got *Backend
	for got != b {
		if got != nil {
			got.Release(RequestOK, 0)
		}
		got = p.Acquire(nil)
	}
	n := len(rec.list())
	if err := p.Drain(b.Address()); err != nil {
		t.Fatal(err)
	}
	wantTransitions(t, rec, n, StateDraining, ReasonAdminDrain)
	for i := 0; i < 10; i++ {
		x := p.Acquire(nil)
		if x == b {
			t.Fatal("a drained backend got a new request")
		}
		x.Release(RequestOK, 0)
	}
	st := p.Status().Backends[0]
	if st.HeldBy != ReasonAdminDrain || st.DrainSecondsLeft == nil || *st.DrainSecondsLeft < 3000 || st.InFlight != 1 {
		t.Fatalf("status of a draining backend: %+v", st)
	}
	pass(b)
	pass(b)
	pass(b)
	b.Release(RequestOK, 0)
	wantTransitions(t, rec, n, StateDraining, ReasonAdminDrain, StateDrained, ReasonDrainComplete)
	pass(b)
	pass(b)
	if b.State() != StateDrained {
		t.Fatalf("checks brought an operator-drained backend back: %s", b.State())
	}
	if err := p.Undrain(b.Address()); err != nil {
		t.Fatal(err)
	}
	pass(b)
	wantTransitions(t, rec, n, StateDraining, ReasonAdminDrain, StateDrained, ReasonDrainComplete,
		StateInitial, ReasonAdminUndrain, StateHealthy, ReasonInitialCheck)
}

func TestDrainErrors(t *testing.T) {
	p, bs, _ := newTestPoolWith(t, Options{}, "127.0.0.1:1")
	pass(bs[0])
	if err := p.Drain("127.0.0.1:9"); !errors.Is(err, ErrUnknownBackend) {
		t.Fatalf("Drain unknown: %v", err)
	}
	if err := p.Undrain("127.0.0.1:9"); !errors.Is(err, ErrUnknownBackend) {
		t.Fatalf("Undrain unknown: %v", err)
	}
	if err := p.Undrain("127.0.0.1:1"); !errors.Is(err, ErrNotDrained) {
		t.Fatalf("Undrain healthy: %v", err)
	}
	drain(bs[0]) // the backend itself asks: not an operator drain
	if err := p.Undrain("127.0.0.1:1"); !errors.Is(err, ErrNotDrained) {
		t.Fatalf("Undrain of a backend-initiated drain: %v", err)
	}
}

func TestDeregistrationDelayEndsTheDrain(t *testing.T) {
	p, bs, rec := newTestPoolWith(t, Options{DeregistrationDelay: 50 * time.Millisecond}, "127.0.0.1:1")
	pass(bs[0])
	b := p.Acquire(nil)
	b2 := p.Acquire(nil)
	drain(b)
	// The timer's goroutine delivers the transition just after the state
	// changes: wait for the transition, not the state.
	deadline := time.Now().Add(10 * time.Second)
	for got := rec.list(); got[len(got)-1].To != StateDrained; got = rec.list() {
		if time.Now().After(deadline) {
			t.Fatalf("drain never expired: %s", b.State())
		}
		time.Sleep(5 * time.Millisecond)
	}
	last := rec.list()[len(rec.list())-1]
	if last.Reason != ReasonDeregistrationTimeout || last.InFlight != 2 || last.Detail != "2 requests cancelled" || last.Target != b {
		t.Fatalf("expiry transition %+v", last)
	}
	b.Release(RequestTransportError, 0)
	b2.Release(RequestTransportError, 0)
	if n := len(rec.list()); rec.list()[n-1].Reason != ReasonDeregistrationTimeout {
		t.Fatalf("release after expiry emitted %+v", rec.list()[n-1])
	}
}

func TestEarlyCompletionStopsTheTimer(t *testing.T) {
	p, bs, rec := newTestPoolWith(t, Options{DeregistrationDelay: 30 * time.Millisecond}, "127.0.0.1:1")
	pass(bs[0])
	b := p.Acquire(nil)
	drain(b)
	b.Release(RequestOK, 0)
	time.Sleep(100 * time.Millisecond)
	wantTransitions(t, rec, 1, StateDraining, ReasonBackendDraining, StateDrained, ReasonDrainComplete)
}

func TestRemoveDrainsThenForgets(t *testing.T) {
	p, bs, rec := newTestPoolWith(t, Options{DeregistrationDelay: time.Hour}, "127.0.0.1:1", "127.0.0.1:2")
	pass(bs[0])
	pass(bs[1])
	var held []*Backend
	for len(held) < 2 {
		held = append(held, p.Acquire(nil))
	}
	if err := p.Remove("127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	if p.Backend("127.0.0.1:1") == nil {
		t.Fatal("removed backend forgotten while its request is in flight")
	}
	if err := p.Remove("127.0.0.1:2"); err != nil {
		t.Fatal(err)
	}
	if p.Acquire(nil) != nil {
		t.Fatal("removed backends still take requests")
	}
	for _, b := range held {
		b.Release(RequestOK, 0)
	}
	if len(p.Backends()) != 0 {
		t.Fatalf("backends left after removal: %d", len(p.Backends()))
	}
	removed := 0
	for _, tr := range rec.list() {
		if tr.Removed {
			removed++
		}
	}
	if removed != 2 {
		t.Fatalf("%d removal transitions, want 2", removed)
	}
	n := len(rec.list())
	pass(bs[0])
	pass(bs[0])
	if len(rec.list()) != n {
		t.Fatal("a forgotten backend still reacts to checks")
	}
}

func TestRemoveIdleBackendIsForgottenAtOnce(t *testing.T) {
	p, bs, rec := newTestPoolWith(t, Options{}, "127.0.0.1:1")
	fail(bs[0])
	fail(bs[0])
	if err := p.Remove("127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	if len(p.Backends()) != 0 {
		t.Fatal("idle removed backend not forgotten")
	}
	wantTransitions(t, rec, 1, StateDraining, ReasonRemovedFromConfig, StateDrained, ReasonDrainComplete,
		StateDrained, ReasonRemovedFromConfig)
}

func TestReaddWhileRemovalDrains(t *testing.T) {
	p, bs, rec := newTestPoolWith(t, Options{DeregistrationDelay: time.Hour}, "127.0.0.1:1")
	pass(bs[0])
	b := p.Acquire(nil)
	p.Remove("127.0.0.1:1")
	again, revived, err := p.Add("127.0.0.1:1", 3)
	if err != nil || !revived || again != b || b.Weight() != 3 {
		t.Fatalf("re-add: %v %v %v", again, revived, err)
	}
	b.Release(RequestOK, 0)
	pass(b)
	wantTransitions(t, rec, 1, StateDraining, ReasonRemovedFromConfig, StateInitial, ReasonAddedToConfig,
		StateHealthy, ReasonInitialCheck)
}
