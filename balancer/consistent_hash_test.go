package balancer_test

import (
	"math"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/lbtrust/lb/balancer"
)

// sumTotal is a balancer.Total over fake targets (the pool keeps one
// atomic count; a sum is the same number for a test).
type sumTotal []*fakeTarget

func (s sumTotal) TotalInFlight() int64 {
	var n int64
	for _, f := range s {
		n += f.inflight.Load()
	}
	return n
}

// hashKeys returns n distinct request keys.
func hashKeys(n int) []uint64 {
	keys := make([]uint64, n)
	for i := range keys {
		keys[i] = balancer.HashKeyString("user-" + strconv.Itoa(i))
	}
	return keys
}

// assign maps every key to the address of its target under a fresh
// consistent_hash picker over ts (no load: the bound never applies).
func assign(t *testing.T, ts []balancer.Target, keys []uint64) []string {
	t.Helper()
	pk := balancer.NewConsistentHash(balancer.DefaultLoadFactor).NewPicker(ts)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = ts[pk.Pick(k)].Address()
	}
	return out
}

// without returns ts less its i-th target.
func without(ts []balancer.Target, i int) []balancer.Target {
	out := append([]balancer.Target(nil), ts[:i]...)
	return append(out, ts[i+1:]...)
}

// TestConsistentHashRemovalMovesOnlyItsKeys: 10 backends, 100,000 keys;
// removing one moves only the keys it had (at most 12%, ideally 10%), and
// adding it back returns exactly those.
func TestConsistentHashRemovalMovesOnlyItsKeys(t *testing.T) {
	ts, _ := newTargets(repeat(1, 10)...)
	keys := hashKeys(100_000)
	before := assign(t, ts, keys)
	for gone := range ts {
		after := assign(t, without(ts, gone), keys)
		moved := 0
		for i := range keys {
			if before[i] == after[i] {
				continue
			}
			moved++
			if before[i] != ts[gone].Address() {
				t.Fatalf("removing %s moved key %d from %s, which stayed", ts[gone].Address(), i, before[i])
			}
		}
		share := float64(moved) / float64(len(keys))
		t.Logf("removing backend %d of 10 moved %.2f%% of 100,000 keys (ideal 10%%)", gone, 100*share)
		if share > 0.12 {
			t.Errorf("removing backend %d moved %.2f%% of keys, want <= 12%%", gone, 100*share)
		}
		back := assign(t, ts, keys)
		for i := range keys {
			if back[i] != before[i] {
				t.Fatalf("key %d is on %s after backend %d came back, was on %s", i, back[i], gone, before[i])
			}
		}
	}
}

// TestConsistentHashAddMovesOnlyToNewcomer: an 11th backend takes keys
// only for itself, about 1/11 of them.
func TestConsistentHashAddMovesOnlyToNewcomer(t *testing.T) {
	ts, _ := newTargets(repeat(1, 11)...)
	keys := hashKeys(100_000)
	before := assign(t, ts[:10], keys)
	after := assign(t, ts, keys)
	moved := 0
	for i := range keys {
		if before[i] != after[i] {
			moved++
			if after[i] != ts[10].Address() {
				t.Fatalf("key %d moved from %s to %s, not to the newcomer", i, before[i], after[i])
			}
		}
	}
	t.Logf("an 11th backend took %.2f%% of 100,000 keys (ideal 9.09%%)", 100*float64(moved)/float64(len(keys)))
	if share := float64(moved) / float64(len(keys)); share < 0.06 || share > 0.12 {
		t.Errorf("newcomer took %.2f%% of keys, want about 9%%", 100*share)
	}
}

// TestConsistentHashIndependentOfOrder: the key's backend depends on the
// addresses, not on their order in the snapshot (two load balancers
// listing backends differently agree).
func TestConsistentHashIndependentOfOrder(t *testing.T) {
	ts, _ := newTargets(repeat(1, 20)...)
	keys := hashKeys(20_000)
	a := assign(t, ts, keys)
	shuffled := append([]balancer.Target(nil), ts...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	b := assign(t, shuffled, keys)
	for i := range keys {
		if a[i] != b[i] {
			t.Fatalf("key %d: %s in one order, %s in another", i, a[i], b[i])
		}
	}
}

// TestConsistentHashSpread: keys spread about evenly, and in proportion
// to weight when weights differ.
func TestConsistentHashSpread(t *testing.T) {
	for _, tt := range []struct {
		name    string
		weights []int
		tol     float64
	}{
		{"uniform/10", repeat(1, 10), 0.2},
		{"weighted/1,2,3", []int{1, 2, 3}, 0.2},
		{"uniform/1000", repeat(1, 1000), 0.6},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts, _ := newTargets(tt.weights...)
			pk := balancer.NewConsistentHash(balancer.DefaultLoadFactor).NewPicker(ts)
			keys := hashKeys(200_000)
			counts := make([]int, len(ts))
			for _, k := range keys {
				counts[pk.Pick(k)]++
			}
			total := 0
			for _, w := range tt.weights {
				total += w
			}
			want := make([]float64, len(ts))
			for i, w := range tt.weights {
				want[i] = float64(len(keys)) * float64(w) / float64(total)
			}
			within(t, counts, want, tt.tol)
		})
	}
}

// TestConsistentHashNoKeyRoundRobin: a request without a key goes round
// robin, and the rotation survives a snapshot change.
func TestConsistentHashNoKeyRoundRobin(t *testing.T) {
	ts, _ := newTargets(repeat(1, 3)...)
	p := balancer.NewConsistentHash(balancer.DefaultLoadFactor)
	pk := p.NewPicker(ts)
	for i := range 6 {
		if got := pk.Pick(balancer.NoKey); got != i%3 {
			t.Fatalf("keyless pick %d = %d, want %d", i, got, i%3)
		}
	}
	if got := p.NewPicker(ts).Pick(balancer.NoKey); got != 0 {
		t.Fatalf("after a snapshot change keyless Pick = %d, want 0 (rotation continues)", got)
	}
}

// TestConsistentHashBoundedLoadSkewed: one key carries 30% of the traffic
// with 200 requests held in flight over 10 backends: no backend ever
// holds more than load_factor times the mean in flight (rounded up), and
// the hot key still goes to its own backend whenever that has room.
func TestConsistentHashBoundedLoadSkewed(t *testing.T) {
	for _, lf := range []float64{1.25, 1.1, 2} {
		t.Run(strconv.FormatFloat(lf, 'f', -1, 64), func(t *testing.T) {
			ts, fs := newTargets(repeat(1, 10)...)
			pk := balancer.NewConsistentHash(lf).(balancer.TotalAware).NewPickerWithTotal(ts, sumTotal(fs))
			keys := hashKeys(10_000)
			hot := keys[0]
			home := pk.Pick(hot) // idle pool: the hot key's own backend
			rng := rand.New(rand.NewPCG(3, 4))
			const window, steps = 200, 100_000
			var held []int
			var m int64
			hotHome, hotRequests, maxSeen := 0, 0, int64(0)
			for range steps {
				k := keys[rng.IntN(len(keys))]
				if rng.Float64() < 0.3 {
					k = hot
				}
				i := pk.Pick(k)
				limit := int64(math.Ceil(lf * float64(m+1) / float64(len(ts))))
				load := fs[i].inflight.Add(1)
				m++
				if load > limit {
					t.Fatalf("backend %d holds %d in flight, cap %d (load factor %v x mean of %d over 10)", i, load, limit, lf, m)
				}
				maxSeen = max(maxSeen, load)
				if k == hot {
					hotRequests++
					if i == home {
						hotHome++
					}
				}
				held = append(held, i)
				if len(held) > window {
					fs[held[0]].inflight.Add(-1)
					held = held[1:]
					m--
				}
			}
			t.Logf("load factor %v: busiest backend held %d of %d in flight (cap %d); the hot key reached its own backend %.1f%% of the time",
				lf, maxSeen, window, int64(math.Ceil(lf*(window+1)/10)), 100*float64(hotHome)/float64(hotRequests))
			if hotHome == 0 {
				t.Error("the hot key never reached its own backend")
			}
		})
	}
}

// TestConsistentHashBoundWeighted: a target's bound follows its weight.
func TestConsistentHashBoundWeighted(t *testing.T) {
	ts, fs := newTargets(1, 3)
	pk := balancer.NewConsistentHash(1.25).(balancer.TotalAware).NewPickerWithTotal(ts, sumTotal(fs))
	keys := hashKeys(1000)
	for _, k := range keys {
		fs[pk.Pick(k)].inflight.Add(1) // everything held
	}
	l0, l1 := fs[0].inflight.Load(), fs[1].inflight.Load()
	if float64(l0) > math.Ceil(1.25*1000/4) || float64(l1) > math.Ceil(1.25*1000*3/4) {
		t.Fatalf("loads %d (weight 1), %d (weight 3): over 1.25 x the weighted share of 1000", l0, l1)
	}
}

// TestConsistentHashUnbounded: +Inf turns the bound off: every request of
// a key goes to its backend, however loaded.
func TestConsistentHashUnbounded(t *testing.T) {
	ts, fs := newTargets(repeat(1, 4)...)
	pk := balancer.NewConsistentHash(math.Inf(1)).(balancer.TotalAware).NewPickerWithTotal(ts, sumTotal(fs))
	k := balancer.HashKeyString("k")
	first := pk.Pick(k)
	for range 100 {
		if i := pk.Pick(k); i != first {
			t.Fatalf("unbounded pick moved from %d to %d", first, i)
		}
		fs[first].inflight.Add(1)
	}
}

// TestHashKeyNeverNoKey: HashKey, HashKeyString and KeyOf never return
// NoKey, and agree with each other.
func TestHashKeyNeverNoKey(t *testing.T) {
	if balancer.KeyOf(0) == balancer.NoKey || balancer.KeyOf(7) != 7 {
		t.Fatal("KeyOf")
	}
	for _, s := range []string{"", "a", "10.0.0.1", "user-1"} {
		if h := balancer.HashKey([]byte(s)); h == balancer.NoKey || h != balancer.HashKeyString(s) {
			t.Fatalf("HashKey(%q) = %d, HashKeyString = %d", s, h, balancer.HashKeyString(s))
		}
	}
	// Fixed values: a change here moves every key of every pool.
	if got := balancer.HashKeyString("user-1"); got != hashUser1 {
		t.Fatalf("HashKeyString(\"user-1\") = %d, want %d (the hash must not change between versions)", got, uint64(hashUser1))
	}
}

// hashUser1 pins the key hash across versions.
const hashUser1 = 14166554182431137624

// TestConsistentHashKeyedPickAllocatesNothingAtScale: 0 allocations per
// keyed Pick at 3, 100 and 10,000 targets, loaded or not.
func TestConsistentHashKeyedPickAllocatesNothingAtScale(t *testing.T) {
	for _, n := range benchSizes {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			ts, fs := benchTargets(n, func(int) int { return 1 })
			pk := balancer.NewConsistentHash(balancer.DefaultLoadFactor).(balancer.TotalAware).NewPickerWithTotal(ts, sumTotal(fs))
			keys := hashKeys(1024)
			var i atomic.Int64
			sink := 0
			if a := testing.AllocsPerRun(1000, func() { sink += pk.Pick(keys[i.Add(1)%1024]) }); a != 0 {
				t.Fatalf("keyed Pick at %d targets: %v allocs, want 0", n, a)
			}
			_ = sink
		})
	}
}

// BenchmarkPickKeyed is consistent_hash's keyed Pick at 3, 100 and
// 10,000 targets (in-flight counts between 1 and 13, as BenchmarkPick),
// one goroutine, a different key each time, the pool's total read
// through a Total (one atomic load, as the pool's).
func BenchmarkPickKeyed(b *testing.B) {
	for _, w := range benchWeights {
		for _, n := range benchSizes {
			b.Run(w.name+"/"+strconv.Itoa(n), func(b *testing.B) {
				ts, fs := benchTargets(n, w.of)
				var total fixedTotal
				for _, f := range fs {
					total.n.Add(f.inflight.Load())
				}
				pk := balancer.NewConsistentHash(balancer.DefaultLoadFactor).(balancer.TotalAware).NewPickerWithTotal(ts, &total)
				keys := hashKeys(4096)
				b.ReportAllocs()
				sink, i := 0, 0
				for b.Loop() {
					sink += pk.Pick(keys[i&4095])
					i++
				}
				_ = sink
			})
		}
	}
}

// fixedTotal is a Total read with one atomic load.
type fixedTotal struct{ n atomic.Int64 }

func (f *fixedTotal) TotalInFlight() int64 { return f.n.Load() }
