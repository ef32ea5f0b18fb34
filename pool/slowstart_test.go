package pool

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lbtrust/lb/balancer"
)

// Slow start with the real balancer policies: a backend that joins a
// healthy one must take a share of new requests that follows the linear
// 10% -> 100% ramp (issue 5, "slow start ... for round_robin and
// least_conn", ±10 points).
//
// Each request is binned by its own age in the ramp (pool clock at
// Acquire minus the backend's rampStart), not by when the loop thought a
// slice began, so a goroutine descheduled on a loaded machine moves a
// sample to the slice it really belongs to instead of skewing one. The
// expected relative share of a slice is the ramp averaged over the
// slice's own samples (with evenly spread samples, the ramp's value at the
// slice's midpoint: 0.19, 0.37, 0.55, 0.73, 0.91 for five slices).
//
// The cases: round robin and least_conn one request at a time (idle
// least_conn rotates like round robin); least_conn and power_of_two with
// six concurrent requests held ~0.5ms, so in-flight counts differ and the
// policy prefers the newcomer, which has fewer; random as a control (a
// policy with no memory and no load preference: rejection sampling is
// exact for it, so it shows the measurement itself is sound).

// On a loaded machine a run may not get ssMinSamples into every slice; the
// case then runs again with a window twice as long (more samples per
// slice), up to ssAttempts times, and only a run with enough samples in
// every slice is judged.
const (
	ssWindow   = time.Second
	ssAttempts = 4
	ssSlices   = 5
	// ssTolerance is the issue's ±10 points on the relative share.
	ssTolerance = 0.10
	// ssMinSamples per slice: below it the share is noise, and the test
	// says so instead of judging it.
	ssMinSamples = 200
)

// rampShare is the share of its fair share a backend takes age ns into a
// slow start of window (the contract of snapshot.admit).
func rampShare(age int64, window time.Duration) float64 {
	f := float64(age) / float64(window)
	return slowStartInitial + (1-slowStartInitial)*min(max(f, 0), 1)
}

// sliceStats accumulates one slice of the window.
type sliceStats struct {
	n, got   int     // requests, of which to the ramping backend
	expected float64 // sum of rampShare over the slice's requests
}

// rampRecorder bins requests by ramp age. Safe for concurrent use.
type rampRecorder struct {
	fresh  *Backend
	start  int64 // fresh's rampStart (pool clock)
	window time.Duration
	mu     sync.Mutex
	s      [ssSlices]sliceStats
}

// record notes one request that Acquire gave to b at pool time at; it
// reports false once the window is over.
func (r *rampRecorder) record(b *Backend, at int64) bool {
	age := at - r.start
	if age >= int64(r.window) {
		return false
	}
	i := int(age * ssSlices / int64(r.window))
	r.mu.Lock()
	s := &r.s[i]
	s.n++
	if b == r.fresh {
		s.got++
	}
	s.expected += rampShare(age, r.window)
	r.mu.Unlock()
	return true
}

// sampled reports whether every slice got ssMinSamples requests, and if
// not, which slice fell short.
func (r *rampRecorder) sampled() (ok bool, why string) {
	for i, s := range r.s {
		if s.n < ssMinSamples {
			return false, fmt.Sprintf("slice %d: only %d requests", i+1, s.n)
		}
	}
	return true, ""
}

// check asserts each slice's relative share (the ramping backend's share
// of requests divided by its fair share 1/backends) against the ramp. The
// run must be sampled.
func (r *rampRecorder) check(t *testing.T, backends int) {
	t.Helper()
	var b strings.Builder
	var bad []string
	ms := int(r.window / time.Millisecond)
	for i, s := range r.s {
		got := float64(backends) * float64(s.got) / float64(s.n)
		want := s.expected / float64(s.n)
		mid := rampShare(int64(r.window)*int64(2*i+1)/(2*ssSlices), r.window)
		fmt.Fprintf(&b, "\n  slice %d (%3d-%4dms): %5d requests, relative share %.2f, ramp %.2f (midpoint %.2f), off by %+.2f",
			i+1, i*ms/ssSlices, (i+1)*ms/ssSlices,
			s.n, got, want, mid, got-want)
		if math.Abs(got-want) > ssTolerance {
			bad = append(bad, fmt.Sprintf("slice %d: %.2f, want %.2f±%.2f", i+1, got, want, ssTolerance))
		}
	}
	t.Logf("share of the ramping backend relative to its fair share:%s", b.String())
	if len(bad) > 0 {
		t.Errorf("slow start does not follow the 10%%->100%% ramp: %s", strings.Join(bad, "; "))
	}
}

// newRampPool makes a pool with the named real policy and n backends
// that are HEALTHY, adds one more that turns HEALTHY while they serve (so
// it ramps over window), and returns the pool and a recorder for the
// ramping backend.
func newRampPool(t *testing.T, policy string, n int, window time.Duration) (*Pool, *rampRecorder) {
	t.Helper()
	pol, err := balancer.New(policy)
	if err != nil {
		t.Fatal(err)
	}
	// Slow start is turned on only once the first n serve, so that they
	// do not ramp among themselves.
	p := New(Options{Name: "web", Policy: pol, Thresholds: Thresholds{Healthy: 2, Unhealthy: 2}})
	t.Cleanup(p.Close)
	for i := 0; i <= n; i++ {
		if _, _, err := p.Add(fmt.Sprintf("127.0.0.1:%d", i+1), 1); err != nil {
			t.Fatal(err)
		}
	}
	bs := p.Backends()
	for _, b := range bs[:n] {
		pass(b)
	}
	for _, b := range bs[:n] {
		if b.State() != StateHealthy || b.rampStart.Load() != 0 {
			t.Fatalf("serving backend %s: %s, rampStart %d", b.Address(), b.State(), b.rampStart.Load())
		}
	}
	p.SetResilience(Resilience{SlowStart: window})
	fresh := bs[n]
	pass(fresh) // INITIAL -> HEALTHY while the others serve: ramps
	start := fresh.rampStart.Load()
	if fresh.State() != StateHealthy || start <= 0 {
		t.Fatalf("new backend %s rampStart %d: no slow start", fresh.State(), start)
	}
	return p, &rampRecorder{fresh: fresh, start: start, window: window}
}

// hold keeps a request in flight for about d without sleeping through the
// scheduler's timer granularity for very short holds.
func hold(d time.Duration) {
	if d <= 0 {
		return
	}
	if d >= 200*time.Microsecond {
		time.Sleep(d)
		return
	}
	for end := time.Now().Add(d); time.Now().Before(end); {
	}
}

// runSequential sends requests one after the other, each held for
// holdFor, until the window is over.
func runSequential(t *testing.T, p *Pool, r *rampRecorder, holdFor time.Duration) {
	t.Helper()
	for {
		at := p.now()
		b := p.Acquire(nil)
		if b == nil {
			t.Fatal("no backend")
		}
		more := r.record(b, at)
		hold(holdFor)
		b.Release(RequestOK, holdFor)
		if !more {
			return
		}
	}
}

// runConcurrent runs workers goroutines each sending requests one after
// the other, held for holdFor, so the backends' in-flight counts differ
// and least_conn's choice depends on them.
func runConcurrent(t *testing.T, p *Pool, r *rampRecorder, workers int, holdFor time.Duration) {
	t.Helper()
	var wg sync.WaitGroup
	var nilPick sync.Once
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for {
				at := p.now()
				b := p.Acquire(nil)
				if b == nil {
					nilPick.Do(func() { t.Error("no backend") })
					return
				}
				more := r.record(b, at)
				hold(holdFor)
				b.Release(RequestOK, holdFor)
				if !more {
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestSlowStartFollowsTheRamp(t *testing.T) {
	for _, tt := range []struct {
		policy   string
		backends int // already serving
		workers  int // 1: sequential
		hold     time.Duration
	}{
		{balancer.RoundRobin, 1, 1, 20 * time.Microsecond},
		{balancer.RoundRobin, 2, 1, 20 * time.Microsecond},
		{balancer.LeastConn, 1, 1, 20 * time.Microsecond},
		{balancer.LeastConn, 1, 6, 500 * time.Microsecond},
		{balancer.LeastConn, 2, 6, 500 * time.Microsecond},
		{balancer.PowerOfTwo, 2, 6, 500 * time.Microsecond},
		{balancer.Random, 1, 1, 20 * time.Microsecond},
	} {
		name := fmt.Sprintf("%s/%d+1_backends/%d_workers", tt.policy, tt.backends, tt.workers)
		t.Run(name, func(t *testing.T) {
			window := ssWindow
			for attempt := 1; ; attempt++ {
				p, r := newRampPool(t, tt.policy, tt.backends, window)
				if tt.workers == 1 {
					runSequential(t, p, r, tt.hold)
				} else {
					runConcurrent(t, p, r, tt.workers, tt.hold)
				}
				p.Close()
				ok, why := r.sampled()
				if ok {
					r.check(t, tt.backends+1)
					return
				}
				if attempt == ssAttempts {
					t.Fatalf("%s over a %s window after %d attempts: too few to judge a share (machine far too loaded)", why, window, attempt)
				}
				t.Logf("%s over a %s window: too few to judge; again with a %s window", why, window, 2*window)
				window *= 2
			}
		})
	}
}

// TestSlowStartSteadySet: a request a ramping backend turns down goes to
// a backend drawn from the snapshot's steady set, built with the snapshot,
// so that it never scans the pool. The set holds the backends not ramping
// when the snapshot was built: never ramped, or ramp over by then.
func TestSlowStartSteadySet(t *testing.T) {
	tests := []struct {
		name   string
		window time.Duration
		// wait before the last backend joins: past the window, the first
		// ramp is over when the snapshot is built
		wait time.Duration
		// want lists the steady backends by index
		want []int
	}{
		{"two ramping", time.Hour, 0, []int{0}},
		{"first ramp over", 200 * time.Millisecond, 400 * time.Millisecond, []int{0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, bs, _ := newTestPoolWith(t, Options{}, "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3")
			pass(bs[0]) // nobody else serves: no ramp
			p.SetResilience(Resilience{SlowStart: tt.window})
			pass(bs[1])
			pass(bs[1])
			time.Sleep(tt.wait)
			pass(bs[2])
			pass(bs[2])
			s := p.snap.Load()
			var got []int
			for _, x := range s.steady {
				for i, b := range bs {
					if x == b {
						got = append(got, i)
					}
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("steady backends %v, want %v", got, tt.want)
			}
			for range 100 {
				var a Avoid
				a.Add(bs[0])
				if x := s.other(bs[2], &a); x != nil && (x == bs[0] || x == bs[2] || !slices.Contains(s.steady, x)) {
					t.Fatalf("other gave %s: avoided, the refusing one, or not steady", x.Address())
				}
			}
		})
	}
}
