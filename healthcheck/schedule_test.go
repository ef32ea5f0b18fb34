package healthcheck

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSchedule: entries come out earliest first, a removed one never
// comes out, and every run knows its index while it is in the heap.
func TestSchedule(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 10, 257} {
		var s schedule
		runs := make([]*running, n)
		var want []int64
		for i := range runs {
			runs[i] = &running{slot: -1}
			at := rng.Int64N(50) + 1
			s.push(entry{at: at, r: runs[i]})
			if i%3 == 1 {
				continue
			}
			want = append(want, at)
		}
		for i := 1; i < n; i += 3 {
			if runs[i].slot < 0 || s[runs[i].slot].r != runs[i] {
				t.Fatalf("n=%d: run %d at slot %d, not in it", n, i, runs[i].slot)
			}
			s.remove(runs[i].slot)
			if runs[i].slot != -1 {
				t.Fatalf("n=%d: removed run %d keeps slot %d", n, i, runs[i].slot)
			}
		}
		slices.Sort(want)
		var got []int64
		for len(s) > 0 {
			for i, e := range s {
				if e.r.slot != i {
					t.Fatalf("n=%d: entry at %d says slot %d", n, i, e.r.slot)
				}
			}
			e := s.pop()
			if e.r.slot != -1 {
				t.Fatalf("n=%d: popped run keeps slot %d", n, e.r.slot)
			}
			got = append(got, e.at)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("n=%d: popped %v, want %v", n, got, want)
		}
	}
}

// TestRunContext: a run's own context reports cancellation through Err and
// Done, whether Done was asked for before or after cancel.
func TestRunContext(t *testing.T) {
	var before, after runContext
	done := before.Done()
	if before.Err() != nil {
		t.Fatal("Err before cancel")
	}
	select {
	case <-done:
		t.Fatal("Done closed before cancel")
	default:
	}
	before.cancel()
	before.cancel()
	after.cancel()
	for _, c := range []*runContext{&before, &after} {
		if !errors.Is(c.Err(), context.Canceled) || !errors.Is(context.Cause(c), context.Canceled) {
			t.Fatalf("Err %v, Cause %v: want context.Canceled", c.Err(), context.Cause(c))
		}
		select {
		case <-c.Done():
		default:
			t.Fatal("Done open after cancel")
		}
	}
}
