package balancer_test

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lbtrust/lb/balancer"
)

// fakeTarget is a balancer.Target whose weight and in-flight count tests
// may change concurrently.
type fakeTarget struct {
	addr     string
	weight   atomic.Int64
	inflight atomic.Int64
}

func (t *fakeTarget) Address() string { return t.addr }
func (t *fakeTarget) Weight() int     { return int(t.weight.Load()) }
func (t *fakeTarget) InFlight() int64 { return t.inflight.Load() }

// newTargets returns one fake target per weight.
func newTargets(weights ...int) ([]balancer.Target, []*fakeTarget) {
	ts := make([]balancer.Target, len(weights))
	fs := make([]*fakeTarget, len(weights))
	for i, w := range weights {
		f := &fakeTarget{addr: fmt.Sprintf("10.0.%d.%d:8080", i/256, i%256)}
		f.weight.Store(int64(w))
		ts[i], fs[i] = f, f
	}
	return ts, fs
}

// setLoads stores loads[i] as fs[i]'s in-flight count.
func setLoads(fs []*fakeTarget, loads ...int64) {
	for i, l := range loads {
		fs[i].inflight.Store(l)
	}
}

// repeat returns n copies of w.
func repeat(w, n int) []int {
	ws := make([]int, n)
	for i := range ws {
		ws[i] = w
	}
	return ws
}

func mustNew(t testing.TB, name string) balancer.Policy {
	t.Helper()
	p, err := balancer.New(name)
	if err != nil {
		t.Fatalf("New(%q): %v", name, err)
	}
	return p
}

// pickN picks n times and returns how often each index came up, failing
// the test on an index out of range.
func pickN(t testing.TB, pk balancer.Picker, size, n int) []int {
	t.Helper()
	counts := make([]int, size)
	for range n {
		i := pk.Pick(balancer.NoKey)
		if i < 0 || i >= size {
			t.Fatalf("Pick() = %d, want [0,%d)", i, size)
		}
		counts[i]++
	}
	return counts
}

// within fails unless got is within tol (relative) of want for every index.
func within(t *testing.T, got []int, want []float64, tol float64) {
	t.Helper()
	for i := range got {
		if d := math.Abs(float64(got[i]) - want[i]); d > tol*want[i] {
			t.Errorf("index %d picked %d times, want %.0f ±%.0f%% (all: %v)", i, got[i], want[i], tol*100, got)
		}
	}
}

func TestNewKnownNames(t *testing.T) {
	names := balancer.Names()
	want := []string{"round_robin", "weighted_round_robin", "least_conn", "random", "power_of_two", "consistent_hash"}
	if !slices.Equal(names, want) {
		t.Fatalf("Names() = %v, want %v", names, want)
	}
	for _, name := range names {
		p := mustNew(t, name)
		if p.Name() != name {
			t.Errorf("New(%q).Name() = %q", name, p.Name())
		}
	}
}

func TestNamesReturnsACopy(t *testing.T) {
	balancer.Names()[0] = "mutated"
	if balancer.Names()[0] != balancer.RoundRobin {
		t.Fatal("Names() exposes shared state")
	}
}

func TestNewUnknown(t *testing.T) {
	for _, name := range []string{"", "roundrobin", "ROUND_ROBIN", "least_conn "} {
		p, err := balancer.New(name)
		if err == nil || p != nil {
			t.Fatalf("New(%q) = %v, %v; want an error", name, p, err)
		}
		if !errors.Is(err, balancer.ErrUnknownPolicy) {
			t.Errorf("New(%q) error %v does not wrap ErrUnknownPolicy", name, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, fmt.Sprintf("%q", name)) {
			t.Errorf("error %q does not name %q", msg, name)
		}
		for _, valid := range balancer.Names() {
			if !strings.Contains(msg, valid) {
				t.Errorf("error %q does not list %q", msg, valid)
			}
		}
	}
}

// targetSets are the snapshots every policy is checked against.
var targetSets = []struct {
	name    string
	weights []int
}{
	{"one", []int{1}},
	{"one-heavy", []int{7}},
	{"two", []int{1, 1}},
	{"three-uniform", []int{2, 2, 2}},
	{"five-one-one", []int{5, 1, 1}},
	{"mixed-17", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 1, 1, 50, 2, 2, 3}},
	{"uniform-100", repeat(1, 100)},
	{"wrr-fallback", []int{100_000, 1, 70_001}},
	{"out-of-contract", []int{0, -3, math.MaxInt}},
}

func TestPickInRange(t *testing.T) {
	for _, name := range balancer.Names() {
		for _, set := range targetSets {
			t.Run(name+"/"+set.name, func(t *testing.T) {
				ts, fs := newTargets(set.weights...)
				for i, f := range fs {
					f.inflight.Store(int64(i % 4))
				}
				pk := mustNew(t, name).NewPicker(ts)
				pickN(t, pk, len(ts), 5000)
			})
		}
	}
}

func TestPickAllocatesNothing(t *testing.T) {
	for _, name := range balancer.Names() {
		for _, set := range targetSets {
			t.Run(name+"/"+set.name, func(t *testing.T) {
				ts, fs := newTargets(set.weights...)
				for i, f := range fs {
					f.inflight.Store(int64(1 + i%4))
				}
				pk := mustNew(t, name).NewPicker(ts)
				var sink int
				if a := testing.AllocsPerRun(1000, func() { sink += pk.Pick(balancer.NoKey) }); a != 0 {
					t.Errorf("Pick allocates %v times per call, want 0", a)
				}
			})
		}
	}
}

// TestConcurrentPick picks from many goroutines while the in-flight counts
// move (as the proxy moves them) and the pool keeps swapping in new
// pickers built by the same Policy. Run under -race.
func TestConcurrentPick(t *testing.T) {
	const goroutines, picks = 16, 5000
	for _, name := range balancer.Names() {
		t.Run(name, func(t *testing.T) {
			policy := mustNew(t, name)
			ts, fs := newTargets(1, 2, 3, 1, 5, 1, 1, 2)
			type box struct{ pk balancer.Picker }
			var current atomic.Pointer[box]
			current.Store(&box{policy.NewPicker(ts)})

			stop := make(chan struct{})
			swapped := make(chan struct{})
			go func() { // the pool: NewPicker is never concurrent with itself
				defer close(swapped)
				for k := 0; ; k++ {
					select {
					case <-stop:
						return
					default:
					}
					n := 1 + k%len(ts)
					current.Store(&box{policy.NewPicker(ts[:n])})
				}
			}()

			var wg sync.WaitGroup
			for range goroutines {
				wg.Go(func() {
					for range picks {
						// Pick and index the same snapshot, as the pool does.
						b := current.Load()
						i := b.pk.Pick(balancer.NoKey)
						fs[i].inflight.Add(1)
						fs[i].inflight.Add(-1)
					}
				})
			}
			wg.Wait()
			close(stop)
			<-swapped
			for i, f := range fs {
				if n := f.inflight.Load(); n != 0 {
					t.Errorf("target %d: in-flight %d after all picks returned", i, n)
				}
			}
		})
	}
}

// TestOverflowSafeLoadComparison checks that in-flight/weight comparisons
// stay exact where a 64-bit cross product would overflow.
func TestOverflowSafeLoadComparison(t *testing.T) {
	const w0, w1 = math.MaxInt32, math.MaxInt32 - 1
	const k = 1 << 31
	// load/weight: target 0 is exactly k, target 1 a hair above k.
	for _, name := range []string{balancer.LeastConn, balancer.PowerOfTwo} {
		t.Run(name, func(t *testing.T) {
			ts, fs := newTargets(w0, w1)
			setLoads(fs, w0*k, w1*k+1)
			pk := mustNew(t, name).NewPicker(ts)
			if c := pickN(t, pk, 2, 1000); c[1] != 0 {
				t.Fatalf("picked the more loaded target %d times", c[1])
			}
		})
	}
}

// TestPickAllocatesNothingAtScale pins issue 14's "0 allocations per Pick
// at 3, 100 and 10,000 backends" for every policy and weight shape the
// benchmarks measure (bench_test.go), the sampled least_conn and the
// weighted_round_robin stride fallback included.
func TestPickAllocatesNothingAtScale(t *testing.T) {
	shapes := append(benchWeights[:len(benchWeights):len(benchWeights)], struct {
		name string
		of   func(i int) int
	}{"distinct", func(i int) int { return 1 + i }})
	for _, name := range balancer.Names() {
		for _, w := range shapes {
			for _, n := range benchSizes {
				t.Run(fmt.Sprintf("%s/%s/%d", name, w.name, n), func(t *testing.T) {
					ts, _ := benchTargets(n, w.of)
					pk := mustNew(t, name).NewPicker(ts)
					var sink int
					if a := testing.AllocsPerRun(1000, func() { sink += pk.Pick(balancer.NoKey) }); a != 0 {
						t.Errorf("Pick allocates %v times per call, want 0", a)
					}
				})
			}
		}
	}
}
