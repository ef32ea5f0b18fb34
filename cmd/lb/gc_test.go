package main

import (
	"runtime/debug"
	"testing"
)

// TestGCDefault: lb serves with GOGC 50 unless the environment sets GOGC.
func TestGCDefault(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	for _, tt := range []struct {
		gogc string
		want int
	}{
		{"", defaultGCPercent},
		{"100", 100},
		{"off", 100},
	} {
		debug.SetGCPercent(100)
		setGCDefault(func(k string) string {
			if k == "GOGC" {
				return tt.gogc
			}
			return ""
		})
		if got := debug.SetGCPercent(100); got != tt.want {
			t.Errorf("GOGC=%q: GC percent %d, want %d", tt.gogc, got, tt.want)
		}
	}
}
