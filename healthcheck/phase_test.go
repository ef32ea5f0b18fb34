package healthcheck

import (
	"testing"
	"time"
)

func TestSlotAt(t *testing.T) {
	epoch := time.Unix(1000, 0)
	s := time.Second
	for _, tt := range []struct {
		name     string
		phase    time.Duration
		at, want time.Duration // from epoch
		interval time.Duration
	}{
		{"at the epoch, phase 0", 0, 0, 0, s},
		{"before the phase", 300 * time.Millisecond, 100 * time.Millisecond, 300 * time.Millisecond, s},
		{"exactly on a slot", 300 * time.Millisecond, 2300 * time.Millisecond, 2300 * time.Millisecond, s},
		{"just after a slot", 300 * time.Millisecond, 2301 * time.Millisecond, 3300 * time.Millisecond, s},
		{"before the epoch", 300 * time.Millisecond, -1500 * time.Millisecond, -700 * time.Millisecond, s},
		{"sub-second interval", 10 * time.Millisecond, 1234 * time.Millisecond, 1310 * time.Millisecond, 100 * time.Millisecond},
		{"phase off the 50ms grid of 1s", 260 * time.Millisecond, 100 * time.Millisecond, 300 * time.Millisecond, s},
		{"100ms interval: 5ms grid", 12 * time.Millisecond, 0, 15 * time.Millisecond, 100 * time.Millisecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := slotAt(epoch, tt.phase, tt.interval, epoch.Add(tt.at))
			if want := epoch.Add(tt.want); !got.Equal(want) {
				t.Errorf("slotAt = epoch%+v, want epoch%+v", got.Sub(epoch), tt.want)
			}
		})
	}
}

// TestNextSlot: in steady state the next probe is one interval after the
// previous slot; after an early first probe that fell just before its
// phase, the next waits for the slot an interval on, not the one a moment
// later.
func TestNextSlot(t *testing.T) {
	epoch := time.Unix(1000, 0)
	const interval = time.Second
	phase := 250 * time.Millisecond
	for _, tt := range []struct {
		start, want time.Duration
	}{
		{1250 * time.Millisecond, 2250 * time.Millisecond}, // on its slot
		{1253 * time.Millisecond, 2250 * time.Millisecond}, // a late timer does not push the schedule
		{1200 * time.Millisecond, 2250 * time.Millisecond}, // early probe 50ms before a slot
		{1700 * time.Millisecond, 2250 * time.Millisecond}, // early probe right after a slot
	} {
		got := nextSlot(epoch, phase, interval, epoch.Add(tt.start)).Sub(epoch)
		if got != tt.want {
			t.Errorf("nextSlot after epoch+%v = epoch+%v, want epoch+%v", tt.start, got, tt.want)
		}
	}
}

// TestPhasesSpreadEvenly: however many checkers share an interval, their
// phases fill its tenths within 20% of the mean (a herd would put them all
// in one), and the first few already land far apart.
func TestPhasesSpreadEvenly(t *testing.T) {
	const interval = time.Second
	for _, n := range []int{50, 100, 1000, 10000} {
		var buckets [10]int
		for k := range n {
			p := phaseOf(uint64(k), interval)
			if p < 0 || p >= interval {
				t.Fatalf("phaseOf(%d) = %v, outside [0, %v)", k, p, interval)
			}
			buckets[p*10/interval]++
		}
		mean := float64(n) / 10
		for i, c := range buckets {
			if float64(c) < 0.8*mean || float64(c) > 1.2*mean {
				t.Errorf("n=%d: tenth %d holds %d phases, want %.0f ± 20%%: %v", n, i, c, mean, buckets)
				break
			}
		}
	}
	if a, b := phaseOf(0, interval), phaseOf(1, interval); b-a < interval/3 && a-b < interval/3 {
		t.Errorf("the first two phases %v and %v are close", a, b)
	}
}

// TestAllowance: a burst of earlyBurst first probes at once, then as many
// as the refill rate allows.
func TestAllowance(t *testing.T) {
	now := time.Unix(1000, 0)
	a := allowance{rate: 100}
	for i := range earlyBurst {
		if !a.take(now) {
			t.Fatalf("take %d refused within the burst", i)
		}
	}
	if a.take(now) {
		t.Fatal("take past the burst allowed")
	}
	now = now.Add(50 * time.Millisecond) // 100/s: 5 tokens
	got := 0
	for a.take(now) {
		got++
	}
	if got != 5 {
		t.Errorf("%d early probes after 50ms at 100/s, want 5", got)
	}
	now = now.Add(time.Hour)
	got = 0
	for a.take(now) {
		got++
	}
	if got != earlyBurst {
		t.Errorf("%d early probes after an hour, want the burst cap %d", got, earlyBurst)
	}
}
