package backoff

import (
	"testing"
	"time"
)

func TestDelayDoublesToTheCapWithinAFifth(t *testing.T) {
	b := Backoff{Min: 200 * time.Millisecond, Max: 10 * time.Second}
	want := []time.Duration{200, 400, 800, 1600, 3200, 6400, 10000, 10000}
	for round := 0; round < 2; round++ {
		for i, w := range want {
			w *= time.Millisecond
			if d := b.Delay(); d < w-w/5 || d > w+w/5 {
				t.Fatalf("round %d, delay %d: %s, want %s within a fifth", round, i, d, w)
			}
		}
		b.Reset()
	}
}
