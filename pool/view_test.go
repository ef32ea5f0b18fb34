package pool

import (
	"reflect"
	"testing"
)

// TestEachStatusMatchesStatus: Summary and EachStatus over RangeBackends
// show what Status shows, backend for backend.
func TestEachStatusMatchesStatus(t *testing.T) {
	p, bs, _ := newTestPool(t, "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", "127.0.0.1:4")
	pass(bs[0])
	pass(bs[0])
	fail(bs[1])
	pass(bs[2])
	drain(bs[2])
	if err := p.Drain("127.0.0.1:3"); err != nil {
		t.Fatal(err)
	}
	b := p.Acquire(nil)
	if b == nil {
		t.Fatal("no backend to acquire")
	}
	b.NoteStatus(200)
	b.Release(RequestOK, 0)

	want := p.Status()
	sum := p.Summary()
	if sum.Backends != nil {
		t.Fatalf("Summary lists backends: %+v", sum.Backends)
	}
	sum.Backends = want.Backends
	if !reflect.DeepEqual(sum, want) {
		t.Fatalf("Summary:\n%+v\nwant (from Status):\n%+v", sum, want)
	}
	var got []BackendStatus
	var list []*Backend
	p.RangeBackends(func(b *Backend) bool { list = append(list, b); return true })
	var v StatusView
	p.EachStatus(list, &v, func(v *StatusView) {
		s := v.Status
		if s.LastCheck != nil {
			c := *s.LastCheck
			s.LastCheck = &c
		}
		got = append(got, s)
	})
	if len(got) != len(want.Backends) {
		t.Fatalf("EachStatus: %d backends, want %d", len(got), len(want.Backends))
	}
	for i := range got {
		g, w := got[i], want.Backends[i]
		// Seconds left of a drain moved on between the two reads.
		if (g.DrainSecondsLeft == nil) != (w.DrainSecondsLeft == nil) {
			t.Fatalf("backend %d drain_seconds_left: %v, want %v", i, g.DrainSecondsLeft, w.DrainSecondsLeft)
		}
		if g.DrainSecondsLeft != nil {
			if d := *w.DrainSecondsLeft - *g.DrainSecondsLeft; d < -1 || d > 1 {
				t.Fatalf("backend %d drain_seconds_left: %v, want about %v", i, *g.DrainSecondsLeft, *w.DrainSecondsLeft)
			}
			g.DrainSecondsLeft, w.DrainSecondsLeft = nil, nil
		}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("backend %d:\n%+v\nwant (from Status):\n%+v", i, g, w)
		}
	}
}

// TestRangeBackendsKeepsItsList: a backend forgotten while RangeBackends
// runs (fn may call the pool) does not disturb the list it walks.
func TestRangeBackendsKeepsItsList(t *testing.T) {
	p, _, _ := newTestPool(t, "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3")
	var seen []string
	p.RangeBackends(func(b *Backend) bool {
		if len(seen) == 0 {
			if err := p.Remove("127.0.0.1:2"); err != nil {
				t.Fatal(err)
			}
			if n := len(p.Backends()); n != 2 {
				t.Fatalf("%d backends after removing one with nothing in flight, want 2", n)
			}
		}
		seen = append(seen, b.Address())
		return true
	})
	if want := []string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"}; !reflect.DeepEqual(seen, want) {
		t.Fatalf("RangeBackends saw %v, want %v", seen, want)
	}
}

// TestViewsAllocateNothing: RangeBackends and EachStatus allocate
// nothing per backend (none at all, for backends without a check error).
func TestViewsAllocateNothing(t *testing.T) {
	p, bs, _ := newTestPool(t, "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3")
	pass(bs[0])
	var v StatusView
	n := 0
	if a := testing.AllocsPerRun(100, func() {
		p.RangeBackends(func(*Backend) bool { n++; return true })
		p.EachStatus(bs, &v, func(v *StatusView) { n += int(v.Status.Weight) })
	}); a != 0 {
		t.Fatalf("%v allocs per RangeBackends and EachStatus, want 0", a)
	}
}
