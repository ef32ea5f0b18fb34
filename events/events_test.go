package events

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// seqs lists the Seq of each event, for compact comparisons.
func seqs(es []Event) []uint64 {
	out := make([]uint64, len(es))
	for i, e := range es {
		out[i] = e.Seq
	}
	return out
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// fill adds n events whose backends alternate between "a" and "b":
// Seq 1 is "a", 2 is "b", 3 is "a", ...
func fill(r *Ring, n int) {
	for i := range n {
		be := "a"
		if i%2 == 1 {
			be = "b"
		}
		r.Add(Event{Kind: KindTransition, Pool: "web", Backend: be, Reason: fmt.Sprint(i + 1)})
	}
}

func TestRingList(t *testing.T) {
	tests := []struct {
		name     string
		capacity int
		added    int
		backend  string
		limit    int
		want     []uint64
	}{
		{name: "empty", capacity: 3, added: 0, want: []uint64{}},
		{name: "below capacity, newest first", capacity: 5, added: 3, want: []uint64{3, 2, 1}},
		{name: "exactly full", capacity: 3, added: 3, want: []uint64{3, 2, 1}},
		{name: "wrapped keeps the newest", capacity: 3, added: 7, want: []uint64{7, 6, 5}},
		{name: "wrapped many times", capacity: 4, added: 4*10 + 1, want: []uint64{41, 40, 39, 38}},
		{name: "capacity 1", capacity: 1, added: 5, want: []uint64{5}},
		{name: "limit", capacity: 10, added: 8, limit: 3, want: []uint64{8, 7, 6}},
		{name: "limit above count", capacity: 10, added: 2, limit: 50, want: []uint64{2, 1}},
		{name: "limit 0 means all", capacity: 10, added: 4, limit: 0, want: []uint64{4, 3, 2, 1}},
		{name: "negative limit means all", capacity: 10, added: 2, limit: -1, want: []uint64{2, 1}},
		{name: "filter", capacity: 10, added: 6, backend: "a", want: []uint64{5, 3, 1}},
		{name: "filter other", capacity: 10, added: 6, backend: "b", want: []uint64{6, 4, 2}},
		{name: "filter and limit", capacity: 10, added: 9, backend: "a", limit: 2, want: []uint64{9, 7}},
		{name: "filter on a wrapped ring", capacity: 4, added: 9, backend: "b", want: []uint64{8, 6}},
		{name: "filter matches nothing", capacity: 10, added: 5, backend: "c", want: []uint64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(tt.capacity)
			fill(r, tt.added)
			got := r.List(tt.backend, tt.limit)
			if !equal(seqs(got), tt.want) {
				t.Fatalf("List(%q, %d) = %v, want %v", tt.backend, tt.limit, seqs(got), tt.want)
			}
			for _, e := range got {
				if e.Reason != fmt.Sprint(e.Seq) {
					t.Errorf("event %d holds the payload of event %s", e.Seq, e.Reason)
				}
				if tt.backend != "" && e.Backend != tt.backend {
					t.Errorf("filter %q let through %q", tt.backend, e.Backend)
				}
			}
			if want := min(tt.added, tt.capacity); r.Len() != want {
				t.Errorf("Len() = %d, want %d", r.Len(), want)
			}
			if r.Total() != uint64(tt.added) {
				t.Errorf("Total() = %d, want %d", r.Total(), tt.added)
			}
		})
	}
}

func TestRingKeepsItsBound(t *testing.T) {
	r := New(100)
	for i := range 10_000 {
		r.Add(Event{Kind: KindTransition, Backend: "x"})
		if r.Len() > 100 {
			t.Fatalf("after %d adds the ring holds %d events, capacity 100", i+1, r.Len())
		}
	}
	if got := r.List("", 0); len(got) != 100 || got[0].Seq != 10_000 || got[99].Seq != 9_901 {
		t.Fatalf("kept %d events, %d..%d; want 100, 10000..9901", len(got), got[0].Seq, got[len(got)-1].Seq)
	}
	if cap(r.buf) > 2*100 {
		t.Errorf("backing array grew to %d for capacity 100", cap(r.buf))
	}
}

func TestDefaultsAndTime(t *testing.T) {
	if c := New(0).Cap(); c != DefaultCapacity {
		t.Errorf("New(0).Cap() = %d, want %d", c, DefaultCapacity)
	}
	r := New(2)
	before := time.Now()
	e := r.Add(Event{Kind: KindReload})
	if e.Time.Before(before) || e.Seq != 1 {
		t.Errorf("Add set Time %v (before %v), Seq %d", e.Time, before, e.Seq)
	}
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	if e := r.Add(Event{Kind: KindReload, Time: at}); !e.Time.Equal(at) {
		t.Errorf("Add replaced a given Time: %v", e.Time)
	}
	// The returned slice is the caller's.
	l := r.List("", 0)
	l[0].Kind = "changed"
	if r.List("", 0)[0].Kind != KindReload {
		t.Error("List shares its slice with the ring")
	}
}

func TestSetCapacity(t *testing.T) {
	tests := []struct {
		name          string
		capacity      int
		added         int
		newCap        int
		addAfter      int
		want          []uint64
		wantCap, wLen int
	}{
		{name: "shrink a wrapped ring", capacity: 4, added: 6, newCap: 2, want: []uint64{6, 5}, wantCap: 2, wLen: 2},
		{name: "shrink then add", capacity: 4, added: 6, newCap: 2, addAfter: 1, want: []uint64{7, 6}, wantCap: 2, wLen: 2},
		{name: "grow a wrapped ring", capacity: 3, added: 5, newCap: 5, addAfter: 3, want: []uint64{8, 7, 6, 5, 4}, wantCap: 5, wLen: 5},
		{name: "shrink a growing ring", capacity: 10, added: 3, newCap: 5, want: []uint64{3, 2, 1}, wantCap: 5, wLen: 3},
		{name: "same capacity", capacity: 3, added: 4, newCap: 3, want: []uint64{4, 3, 2}, wantCap: 3, wLen: 3},
		{name: "zero is the default", capacity: 3, added: 4, newCap: 0, want: []uint64{4, 3, 2}, wantCap: DefaultCapacity, wLen: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(tt.capacity)
			fill(r, tt.added)
			r.SetCapacity(tt.newCap)
			for range tt.addAfter {
				r.Add(Event{Kind: KindTransition})
			}
			if got := seqs(r.List("", 0)); !equal(got, tt.want) {
				t.Errorf("List = %v, want %v", got, tt.want)
			}
			if r.Cap() != tt.wantCap || r.Len() != tt.wLen {
				t.Errorf("Cap, Len = %d, %d; want %d, %d", r.Cap(), r.Len(), tt.wantCap, tt.wLen)
			}
		})
	}
}

// TestConcurrentAdd runs under -race: writers and readers at once, and
// every Seq handed out exactly once, with each List newest first.
func TestConcurrentAdd(t *testing.T) {
	const writers, each, capacity = 8, 500, 64
	r := New(capacity)
	var wg sync.WaitGroup
	got := make([][]uint64, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				e := r.Add(Event{Kind: KindTransition, Backend: fmt.Sprintf("w%d", w), Reason: fmt.Sprint(i)})
				got[w] = append(got[w], e.Seq)
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				l := r.List("", 0)
				for i := 1; i < len(l); i++ {
					if l[i].Seq >= l[i-1].Seq {
						t.Errorf("List not newest first: %d then %d", l[i-1].Seq, l[i].Seq)
						return
					}
				}
				if len(l) > capacity {
					t.Errorf("List returned %d events, capacity %d", len(l), capacity)
					return
				}
				r.List("w3", 5)
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()

	seen := make(map[uint64]bool, writers*each)
	for _, s := range got {
		for i, q := range s {
			if seen[q] {
				t.Fatalf("Seq %d handed out twice", q)
			}
			seen[q] = true
			if i > 0 && q <= s[i-1] {
				t.Fatalf("one writer's events out of order: %d after %d", q, s[i-1])
			}
		}
	}
	if r.Total() != writers*each || r.Len() != capacity {
		t.Fatalf("Total, Len = %d, %d; want %d, %d", r.Total(), r.Len(), writers*each, capacity)
	}
	l := r.List("", 0)
	if l[0].Seq != writers*each || l[capacity-1].Seq != writers*each-capacity+1 {
		t.Fatalf("kept %d..%d, want the newest %d", l[0].Seq, l[capacity-1].Seq, capacity)
	}
}
