package balancer_test

import (
	"testing"

	"github.com/lbtrust/lb/balancer"
)

func TestLeastConnPicksLeastLoaded(t *testing.T) {
	tests := []struct {
		name    string
		weights []int
		loads   []int64
		want    int
	}{
		{"idle one", []int{1, 1, 1}, []int64{5, 0, 3}, 1},
		{"least busy", []int{1, 1, 1, 1}, []int64{4, 9, 2, 3}, 2},
		{"last", []int{1, 1, 1}, []int64{4, 9, 1}, 2},
		{"weighted: 4/4 beats 3/1", []int{4, 1}, []int64{4, 3}, 0},
		{"weighted: 10/10 beats 2/1", []int{1, 10}, []int64{2, 10}, 1},
		{"weighted: raw count loses", []int{1, 3, 1}, []int64{2, 5, 2}, 1},
		{"negative reads as idle", []int{1, 1}, []int64{3, -2}, 1},
		{"single", []int{1}, []int64{42}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, fs := newTargets(tt.weights...)
			setLoads(fs, tt.loads...)
			pk := mustNew(t, balancer.LeastConn).NewPicker(ts)
			// Enough picks to start the scan at every index.
			for k := range 3 * len(ts) {
				if got := pk.Pick(); got != tt.want {
					t.Fatalf("pick %d = %d, want %d", k, got, tt.want)
				}
			}
		})
	}
}

// TestLeastConnSpreadsIdle: with every backend idle, the rotating scan
// start shares the load exactly evenly.
func TestLeastConnSpreadsIdle(t *testing.T) {
	for _, weights := range [][]int{{1, 1, 1, 1}, {1, 5, 2, 1}} {
		ts, _ := newTargets(weights...)
		pk := mustNew(t, balancer.LeastConn).NewPicker(ts)
		for i, c := range pickN(t, pk, len(ts), 4000) {
			if c != 1000 {
				t.Fatalf("weights %v: index %d picked %d times, want 1000", weights, i, c)
			}
		}
	}
}

// TestLeastConnSpreadsTies: busy backends that tie all get a share, the
// busier one gets none.
func TestLeastConnSpreadsTies(t *testing.T) {
	ts, fs := newTargets(1, 1, 1, 1)
	setLoads(fs, 2, 2, 5, 2)
	pk := mustNew(t, balancer.LeastConn).NewPicker(ts)
	counts := pickN(t, pk, len(ts), 4000)
	if counts[2] != 0 {
		t.Fatalf("busier backend picked %d times: %v", counts[2], counts)
	}
	for _, i := range []int{0, 1, 3} {
		if counts[i] < 4000/5 {
			t.Fatalf("tied backend %d got %d picks, want a fair share: %v", i, counts[i], counts)
		}
	}
}

// TestLeastConnBalancesLoad simulates requests that stay in flight: the
// picked backend's count goes up, so picks fill backends level by level.
func TestLeastConnBalancesLoad(t *testing.T) {
	ts, fs := newTargets(1, 2, 1)
	pk := mustNew(t, balancer.LeastConn).NewPicker(ts)
	for range 400 {
		fs[pk.Pick()].inflight.Add(1)
	}
	if got := []int64{fs[0].inflight.Load(), fs[1].inflight.Load(), fs[2].inflight.Load()}; got[0] != 100 || got[1] != 200 || got[2] != 100 {
		t.Fatalf("in-flight after 400 held requests %v, want [100 200 100]", got)
	}
}
