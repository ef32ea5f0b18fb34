package chaos

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/lbtrust/lb/bench/record"
)

func hourParams(seed uint64) Params {
	return Params{Seed: seed, Duration: time.Hour, Backends: 6, DrainPeriod: 3 * time.Second}
}

func TestScheduleReproducible(t *testing.T) {
	a, err := Generate(hourParams(7))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate(hourParams(7))
	c, _ := Generate(hourParams(8))
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave two schedules")
	}
	if reflect.DeepEqual(a.Steps, c.Steps) {
		t.Fatal("two seeds gave one schedule")
	}
	if a.String() != b.String() {
		t.Fatal("the printed schedules differ")
	}
}

// TestScheduleKeepsBackendsServing: at every moment at least MinServing
// backends have no step on them (fault, drain, removal, or a tail), every
// kind appears, and faults overlap.
func TestScheduleKeepsBackendsServing(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		sc, err := Generate(hourParams(seed))
		if err != nil {
			t.Fatal(err)
		}
		p := sc.Params
		busy := make([][][2]time.Duration, p.Backends)
		kinds := map[string]int{}
		member := []bool{true, true, true, true, true, true}
		removedAt := map[int]time.Duration{}
		adds, removes := 0, 0
		for _, s := range sc.Steps {
			kinds[s.Kind]++
			if s.Kind != KindReload {
				busy[s.Backend] = append(busy[s.Backend], [2]time.Duration{s.At, s.End()})
				if s.End() > p.Duration-p.Quiet {
					t.Errorf("seed %d: step %s ends in the quiet end", seed, s.Describe())
				}
				continue
			}
			for i := range member {
				now := slices.Contains(s.Members, i)
				switch {
				case member[i] && !now:
					removedAt[i] = s.At
					removes++
				case !member[i] && now:
					busy[i] = append(busy[i], [2]time.Duration{removedAt[i], s.At + p.ShortTail})
					adds++
				}
				member[i] = now
			}
		}
		for i, m := range member {
			if !m {
				t.Errorf("seed %d: b%d is not in the last configuration", seed, i+1)
			}
		}
		for _, k := range append(func() []string { k := faultKinds(); return k[:] }(), KindReload, KindAdminDrain) {
			if kinds[k] == 0 {
				t.Errorf("seed %d: no %s step in an hour: %v", seed, k, kinds)
			}
		}
		if adds == 0 || removes != adds {
			t.Errorf("seed %d: %d removals, %d additions", seed, removes, adds)
		}
		maxBusy := 0
		for at := time.Duration(0); at < p.Duration; at += 100 * time.Millisecond {
			n := 0
			for _, rs := range busy {
				for _, r := range rs {
					if at >= r[0] && at < r[1] {
						n++
						break
					}
				}
			}
			maxBusy = max(maxBusy, n)
			if p.Backends-n < p.MinServing {
				t.Fatalf("seed %d: at %s only %d backends untouched", seed, at, p.Backends-n)
			}
		}
		if maxBusy < 3 {
			t.Errorf("seed %d: at most %d backends touched at once: want overlaps", seed, maxBusy)
		}
		t.Logf("seed %d: %d steps %v, at most %d backends touched at once, %d draws skipped", seed, len(sc.Steps), kinds, maxBusy, sc.Skipped)
	}
}

func TestJudgeCauses(t *testing.T) {
	sc := Schedule{Steps: []Step{
		{ID: 1, Kind: Errors, Backend: 2, At: 10 * time.Second, Until: 15 * time.Second, Tail: 5 * time.Second},
		{ID: 2, Kind: Kill, Backend: 0, At: 12 * time.Second, Until: 14 * time.Second, Tail: 5 * time.Second},
	}}
	rec := func(at time.Duration, kind record.Kind, code uint16, b int16) record.Record {
		return record.Record{Start: at, Latency: time.Millisecond, Kind: kind, Code: code, Backend: b}
	}
	f := Judge(Input{Schedule: sc, Records: []record.Record{
		rec(11*time.Second, record.HTTPError, 500, 2),                // errors b3
		rec(11*time.Second, record.HTTPError, 500, 1),                // b2 had no fault
		rec(13*time.Second, record.HTTPError, 502, record.NoBackend), // kill b1
		rec(30*time.Second, record.Timeout, 0, record.NoBackend),     // nothing then
		rec(13*time.Second, record.HTTPError, 503, record.NoBackend),
		rec(13*time.Second, record.OK, 200, 1),
	}})
	got := map[string]int{}
	for _, c := range f.Causes {
		got[c.Cause] = c.Count
	}
	want := map[string]int{"errors b3 #1": 1, "kill b1 #2": 1, "unexplained": 2, "no eligible backend (the lb's 503)": 1}
	if !reflect.DeepEqual(got, want) || f.Unexplained != 2 || f.NoBackend != 1 {
		t.Errorf("causes %v (unexplained %d, no backend %d), want %v", got, f.Unexplained, f.NoBackend, want)
	}
}

func TestJudgeTransitions(t *testing.T) {
	began := time.Unix(1000, 0)
	sc := Schedule{Steps: []Step{
		{ID: 1, Kind: Hang, Backend: 0, At: 10 * time.Second, Until: 12 * time.Second, Tail: 2 * time.Second},
		{ID: 2, Kind: KindReload, Backend: -1, At: 20 * time.Second, Members: []int{0}, Weights: []int{1, 0}},
	}}
	ev := func(seq uint64, at time.Duration, kind, backend, to, reason string) Event {
		return Event{Seq: seq, Time: began.Add(at), Kind: kind, Backend: backend, To: to, Reason: reason}
	}
	f := Judge(Input{Schedule: sc, Addrs: []string{"a:1", "a:2"}, Began: began, Events: []Event{
		ev(1, -time.Second, "transition", "a:1", "healthy", "initial_check"),
		ev(2, 10100*time.Millisecond, "transition", "a:1", "unhealthy", "silent"),
		ev(3, 12*time.Second, "transition", "a:1", "healthy", "answered"),
		ev(4, 15*time.Second, "transition", "a:2", "unhealthy", "passive_ejection"), // no fault on b2
		ev(5, 16*time.Second, "transition", "a:2", "healthy", "check_passed"),       // after an unexplained one
		ev(6, 20*time.Second, "reload", "", "", "applied"),
		ev(7, 20100*time.Millisecond, "transition", "a:2", "draining", "removed_from_config"),
	}})
	var reasons []string
	for _, u := range f.UnexplainedTransitions {
		reasons = append(reasons, u.Reason)
	}
	if !reflect.DeepEqual(reasons, []string{"passive_ejection", "check_passed"}) || f.Transitions != 5 {
		t.Errorf("unexplained %v of %d, want passive_ejection and check_passed of 5", reasons, f.Transitions)
	}
	if f.ReloadsApplied != 1 || f.ReloadsScheduled != 1 {
		t.Errorf("reloads %d of %d", f.ReloadsApplied, f.ReloadsScheduled)
	}
}

func TestSlopes(t *testing.T) {
	var ss []Sample
	for i := 0; i < 60; i++ {
		ss = append(ss, Sample{At: time.Duration(i) * time.Second, RSS: int64(20<<20 + i*(1<<20)/60), Goroutines: 30, FDs: 40 + i})
	}
	s := slopes(ss)
	if d := s.RSSMiB - 1; d > 1e-3 || d < -1e-3 {
		t.Errorf("RSS slope %f MiB/min, want 1", s.RSSMiB)
	}
	if s.Goroutines != 0 || s.FDs < 59.99 || s.FDs > 60.01 {
		t.Errorf("slopes %+v", s)
	}
}
