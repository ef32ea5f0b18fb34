package fleet

import (
	"fmt"
	"slices"
	"testing"
)

func TestOwnersTable(t *testing.T) {
	m3 := []string{"lb-1", "lb-2", "lb-3"}
	// ranked is m3 by Score for "10.0.0.1:80", highest first, computed
	// here independently of AppendOwners.
	ranked := slices.Clone(m3)
	slices.SortFunc(ranked, func(a, b string) int {
		sa, sb := Score(a, "10.0.0.1:80"), Score(b, "10.0.0.1:80")
		switch {
		case sa > sb:
			return -1
		case sa < sb:
			return 1
		}
		return 0
	})
	for _, tc := range []struct {
		name    string
		members []string
		r       int
		want    []string
	}{
		{"no members", nil, 2, []string{}},
		{"r zero", m3, 0, []string{}},
		{"r negative", m3, -1, []string{}},
		{"one member", []string{"lb-1"}, 2, []string{"lb-1"}},
		{"r equals n", m3, 3, ranked},
		{"r above n", m3, 5, ranked},
		{"r one", m3, 1, ranked[:1]},
		{"r two", m3, 2, ranked[:2]},
		{"order of members does not matter", []string{"lb-3", "lb-1", "lb-2"}, 2, ranked[:2]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Owners("10.0.0.1:80", tc.members, tc.r)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Owners = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestScoreIsFixed(t *testing.T) {
	// Pinned values: a change to the hash would move every backend's
	// owners in a fleet running mixed versions.
	for _, tc := range []struct {
		member, backend string
		want            uint64
	}{
		{"lb-1", "10.0.0.1:80", 0x2042990c0ff3896c},
		{"", "", 0x25fc6dd36ce04b20},
	} {
		if got := Score(tc.member, tc.backend); got != tc.want {
			t.Fatalf("Score(%q, %q) = %#x, want %#x", tc.member, tc.backend, got, tc.want)
		}
	}
	if Score("ab", "c") == Score("a", "bc") {
		t.Fatal("the separator does not separate")
	}
}

func TestAppendOwnersAllocatesNothing(t *testing.T) {
	members := []string{"lb-1", "lb-2", "lb-3", "lb-4", "lb-5"}
	buf := make([]string, 0, 2)
	n := testing.AllocsPerRun(100, func() {
		buf = AppendOwners(buf[:0], "10.0.0.1:80", members, 2)
	})
	if n != 0 {
		t.Fatalf("%v allocations per call, want 0", n)
	}
	if len(buf) != 2 {
		t.Fatalf("%d owners, want 2", len(buf))
	}
}

func TestAppendOwnersKeepsDst(t *testing.T) {
	got := AppendOwners([]string{"x"}, "b", []string{"lb-1", "lb-2"}, 1)
	if len(got) != 2 || got[0] != "x" {
		t.Fatalf("AppendOwners = %v, want x then one owner", got)
	}
	// More than 16 owners takes the heap path.
	var many []string
	for i := range 20 {
		many = append(many, fmt.Sprintf("lb-%d", i))
	}
	all := Owners("b", many, 20)
	if len(all) != 20 {
		t.Fatalf("%d owners, want 20", len(all))
	}
	for i := 1; i < len(all); i++ {
		if Score(all[i-1], "b") < Score(all[i], "b") {
			t.Fatalf("owners not highest first: %v", all)
		}
	}
}

// ownersOf is the owners of n backends over members, by backend.
func ownersOf(members []string, n, r int) [][]string {
	out := make([][]string, n)
	for i := range out {
		out[i] = Owners(fmt.Sprintf("10.0.%d.%d:8080", i/256, i%256), members, r)
	}
	return out
}

func TestOwnersPropertiesOnChurn(t *testing.T) {
	const n = 1000
	all := []string{"lb-a", "lb-b", "lb-c", "lb-d", "lb-e"}
	for _, r := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("r=%d", r), func(t *testing.T) {
			before := ownersOf(all, n, r)

			// Spread: each member owns about r/len(all) of the backends.
			count := map[string]int{}
			for _, o := range before {
				if len(o) != r {
					t.Fatalf("%d owners, want %d", len(o), r)
				}
				for _, m := range o {
					count[m]++
				}
			}
			want := float64(n*r) / float64(len(all))
			for _, m := range all {
				if c := float64(count[m]); c < 0.8*want || c > 1.2*want {
					t.Errorf("%s owns %v backends, want %v ± 20%%", m, c, want)
				}
			}

			for _, gone := range all {
				rest := slices.DeleteFunc(slices.Clone(all), func(m string) bool { return m == gone })
				after := ownersOf(rest, n, r)
				for i := range before {
					owned := slices.Contains(before[i], gone)
					if !owned {
						if !slices.Equal(before[i], after[i]) {
							t.Fatalf("without %s, backend %d moved from %v to %v though %s did not own it", gone, i, before[i], after[i], gone)
						}
						continue
					}
					// The others keep it, in the same order, and one
					// newcomer takes the last place.
					kept := slices.DeleteFunc(slices.Clone(before[i]), func(m string) bool { return m == gone })
					if !slices.Equal(after[i][:r-1], kept) {
						t.Fatalf("without %s, backend %d: owners %v, want %v then one new", gone, i, after[i], kept)
					}
					if slices.Contains(before[i], after[i][r-1]) {
						t.Fatalf("without %s, backend %d: new owner %s already owned it", gone, i, after[i][r-1])
					}
				}
				// Adding it back restores every backend's owners.
				back := ownersOf(append(rest, gone), n, r)
				for i := range before {
					if !slices.Equal(before[i], back[i]) {
						t.Fatalf("%s back: backend %d owners %v, want %v", gone, i, back[i], before[i])
					}
				}
			}
		})
	}
}

func BenchmarkAppendOwners(b *testing.B) {
	members := []string{"lb-1", "lb-2", "lb-3", "lb-4", "lb-5", "lb-6", "lb-7", "lb-8", "lb-9", "lb-10"}
	buf := make([]string, 0, 2)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendOwners(buf[:0], "10.0.0.1:8080", members, 2)
	}
}
