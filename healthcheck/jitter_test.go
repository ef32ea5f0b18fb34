package healthcheck

import (
	"testing"
	"time"
)

const almostOne = 0.999999

func TestFirstDelay(t *testing.T) {
	for _, tt := range []struct{ interval, ceiling time.Duration }{
		{100 * time.Millisecond, 10 * time.Millisecond},
		{200 * time.Millisecond, 20 * time.Millisecond},
		{10 * time.Second, time.Second},
		{time.Hour, time.Second},
	} {
		if d := firstDelay(tt.interval, 0); d != 0 {
			t.Errorf("firstDelay(%v, 0) = %v, want 0", tt.interval, d)
		}
		if d := firstDelay(tt.interval, almostOne); d >= tt.ceiling || d < tt.ceiling*99/100 {
			t.Errorf("firstDelay(%v, ~1) = %v, want just under %v", tt.interval, d, tt.ceiling)
		}
	}
}

func TestNextDelay(t *testing.T) {
	for _, interval := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 10 * time.Second} {
		lo, hi := interval*9/10, interval*11/10
		if d := nextDelay(interval, 0); d < lo-time.Microsecond || d > lo {
			t.Errorf("nextDelay(%v, 0) = %v, want %v", interval, d, lo)
		}
		if d := nextDelay(interval, 0.5); d < interval-time.Microsecond || d > interval+time.Microsecond {
			t.Errorf("nextDelay(%v, 0.5) = %v, want %v", interval, d, interval)
		}
		if d := nextDelay(interval, almostOne); d >= hi || d < hi-time.Millisecond {
			t.Errorf("nextDelay(%v, ~1) = %v, want just under %v", interval, d, hi)
		}
	}
}
