package fleet

import "testing"

func TestCombine(t *testing.T) {
	v := func(member string, s State) Verdict {
		return Verdict{Member: member, State: s, Reason: string(s) + "-" + member}
	}
	owners := []string{"lb-2", "lb-1"} // rank order
	for _, tc := range []struct {
		name     string
		verdicts []Verdict
		want     string // the Reason of the combined verdict; "" = none
	}{
		{"no verdicts: no change", nil, ""},
		{"only a non-owner's: no change", []Verdict{v("lb-3", StateDown)}, ""},
		{"both up: the higher-ranked owner names it", []Verdict{v("lb-1", StateUp), v("lb-2", StateUp)}, "up-lb-2"},
		{"one up, the other not yet: up", []Verdict{v("lb-1", StateUp)}, "up-lb-1"},
		{"one down: down", []Verdict{v("lb-2", StateUp), v("lb-1", StateDown)}, "down-lb-1"},
		{"down beats draining", []Verdict{v("lb-2", StateDraining), v("lb-1", StateDown)}, "down-lb-1"},
		{"draining beats up", []Verdict{v("lb-2", StateUp), v("lb-1", StateDraining)}, "draining-lb-1"},
		{"both down: the higher-ranked owner", []Verdict{v("lb-1", StateDown), v("lb-2", StateDown)}, "down-lb-2"},
		{"a non-owner's down is ignored", []Verdict{v("lb-2", StateUp), v("lb-3", StateDown)}, "up-lb-2"},
	} {
		got, ok := Combine(owners, tc.verdicts)
		if (tc.want == "") == ok || got.Reason != tc.want {
			t.Errorf("%s: Combine = %+v, %v; want reason %q", tc.name, got, ok, tc.want)
		}
	}
	vs := []Verdict{v("lb-1", StateUp), v("lb-2", StateDown)}
	if n := testing.AllocsPerRun(100, func() { Combine(owners, vs) }); n != 0 {
		t.Errorf("Combine allocates %.0f times", n)
	}
}
