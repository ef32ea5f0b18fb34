package healthcheck

import "testing"

func TestStatusSetMatch(t *testing.T) {
	set := StatusSet{{200, 200}, {202, 202}, {300, 399}}
	for code, want := range map[int]bool{199: false, 200: true, 201: false, 202: true, 299: false, 300: true, 350: true, 399: true, 400: false, 0: false} {
		if got := set.Match(code); got != want {
			t.Errorf("Match(%d) = %v, want %v", code, got, want)
		}
	}
	if (StatusSet{}).Match(200) {
		t.Error("the empty set matched")
	}
	if got := set.String(); got != "200,202,300-399" {
		t.Errorf("String() = %q", got)
	}
}

func TestStatusSetMatchAllocs(t *testing.T) {
	set := StatusSet{{200, 299}, {304, 304}}
	if n := testing.AllocsPerRun(100, func() { set.Match(304) }); n != 0 {
		t.Fatalf("Match allocates %v times", n)
	}
}

func BenchmarkStatusSetMatch(b *testing.B) {
	set := StatusSet{{200, 200}, {202, 202}, {300, 399}}
	for b.Loop() {
		set.Match(350)
	}
}
