package balancer_test

import (
	"fmt"
	"math"
	"math/rand/v2"
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
				if got := pk.Pick(balancer.NoKey); got != tt.want {
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
		fs[pk.Pick(balancer.NoKey)].inflight.Add(1)
	}
	if got := []int64{fs[0].inflight.Load(), fs[1].inflight.Load(), fs[2].inflight.Load()}; got[0] != 100 || got[1] != 200 || got[2] != 100 {
		t.Fatalf("in-flight after 400 held requests %v, want [100 200 100]", got)
	}
}

// Above 32 targets least_conn samples (the cursor's target and 3 random
// draws, see leastConn). These tests hold it to what it promises there.

// sampledSizes are snapshot sizes on the sampled path.
var sampledSizes = []int{33, 100, 10_000}

// TestLeastConnSampledSpreadsIdle: with every backend idle the cursor's
// target is always taken, so idle backends share exactly evenly and in
// turn, weights or not, as the exact scan does for small pools.
func TestLeastConnSampledSpreadsIdle(t *testing.T) {
	for _, n := range sampledSizes {
		for _, weighted := range []bool{false, true} {
			ws := repeat(1, n)
			if weighted {
				for i := range ws {
					ws[i] = 1 + i%7
				}
			}
			ts, _ := newTargets(ws...)
			pk := mustNew(t, balancer.LeastConn).NewPicker(ts)
			for k := range 3 * n {
				if got := pk.Pick(balancer.NoKey); got != k%n {
					t.Fatalf("n=%d weighted=%v: pick %d = %d, want %d (in turn)", n, weighted, k, got, k%n)
				}
			}
		}
	}
}

// TestLeastConnSampledSkipsLoaded: half the backends busy, half idle. A
// busy one is picked only when all 4 candidates are busy (the cursor's,
// 1 in 2, and 3 draws, 1 in 8 together): 1 pick in 16, where a single
// random draw would give 1 in 2. Draws are in proportion to weight, so
// with weights the chance is the busy ones' share of the weight: here
// busy backends weigh 1 and idle ones 3, 1/2 × (1/4)^3 = 1 in 128.
func TestLeastConnSampledSkipsLoaded(t *testing.T) {
	const n, picks = 1000, 64_000
	tests := []struct {
		name           string
		busyW, idleW   int
		want, min, max int // busy picks, expected and accepted (> 8 sd)
	}{
		{"uniform", 1, 1, picks / 16, 2800, 5200},
		{"weighted", 1, 3, picks / 128, 250, 750},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := make([]int, n)
			for i := range ws {
				ws[i] = tt.idleW
				if i%2 == 0 {
					ws[i] = tt.busyW
				}
			}
			ts, fs := newTargets(ws...)
			for i := 0; i < n; i += 2 {
				fs[i].inflight.Store(10)
			}
			pk := mustNew(t, balancer.LeastConn).NewPicker(ts)
			busy := 0
			counts := pickN(t, pk, n, picks)
			for i := 0; i < n; i += 2 {
				busy += counts[i]
			}
			t.Logf("busy backends took %d of %d picks (expected %d)", busy, picks, tt.want)
			if busy < tt.min || busy > tt.max {
				t.Fatalf("busy backends took %d of %d picks, want about %d (%d..%d)", busy, picks, tt.want, tt.min, tt.max)
			}
		})
	}
}

// TestLeastConnSampledBalancesHeldLoad runs the steady state the
// sampling is for: n backends hold perBackend requests each on average;
// again and again a random request ends and the policy places a new one.
// least_conn must keep every backend close to the mean (per weight), the
// most loaded at most 3 above it; power_of_two (2 uniform draws) is shown
// for comparison. The figures quoted on leastConn come from this test's
// log at 10,000 backends.
func TestLeastConnSampledBalancesHeldLoad(t *testing.T) {
	n := 10_000
	if testing.Short() || raceEnabled {
		n = 1000
	}
	const perBackend = 20
	tests := []struct {
		name     string
		policy   string
		weight   func(i int) int
		judge    bool
		maxAbove float64 // the most loaded's in-flight/weight above the mean's
	}{
		{"least_conn uniform", balancer.LeastConn, func(int) int { return 1 }, true, 3},
		{"power_of_two uniform", balancer.PowerOfTwo, func(int) int { return 1 }, false, 0},
		{"least_conn 1 and 20", balancer.LeastConn, func(i int) int { return 1 + 19*btoi(i%10 == 0) }, true, 3},
		{"power_of_two 1 and 20", balancer.PowerOfTwo, func(i int) int { return 1 + 19*btoi(i%10 == 0) }, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := make([]int, n)
			total := 0
			for i := range ws {
				ws[i] = tt.weight(i)
				total += ws[i]
			}
			ts, fs := newTargets(ws...)
			pk := mustNew(t, tt.policy).NewPicker(ts)
			held := make([]int, 0, n*perBackend)
			for range cap(held) {
				i := pk.Pick(balancer.NoKey)
				fs[i].inflight.Add(1)
				held = append(held, i)
			}
			r := rand.New(rand.NewPCG(1, 2))
			for range 5 * len(held) {
				k := r.IntN(len(held))
				fs[held[k]].inflight.Add(-1)
				i := pk.Pick(balancer.NoKey)
				fs[i].inflight.Add(1)
				held[k] = i
			}
			mean := float64(len(held)) / float64(total) // in flight per unit of weight
			lo, hi := math.Inf(1), 0.0
			byWeight := map[int][2]float64{} // weight: sum of in-flight/weight, backends
			for i, f := range fs {
				per := float64(f.inflight.Load()) / float64(ws[i])
				lo, hi = min(lo, per), max(hi, per)
				s := byWeight[ws[i]]
				byWeight[ws[i]] = [2]float64{s[0] + per, s[1] + 1}
			}
			classes := ""
			for _, w := range []int{1, 20} {
				if s, ok := byWeight[w]; ok {
					classes += fmt.Sprintf(" weight %d: %.2f;", w, s[0]/s[1])
				}
			}
			t.Logf("%d backends, mean in flight per weight %.2f: least loaded %.2f, most %.2f; mean by weight:%s", n, mean, lo, hi, classes)
			if !tt.judge {
				return
			}
			if hi-mean > tt.maxAbove {
				t.Errorf("most loaded backend at %.2f per weight, mean %.2f: want at most %.0f above", hi, mean, tt.maxAbove)
			}
			for w, s := range byWeight {
				if got := s[0] / s[1]; math.Abs(got-mean) > 0.1*mean {
					t.Errorf("backends of weight %d hold %.2f per weight on average, want %.2f ±10%%", w, got, mean)
				}
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
