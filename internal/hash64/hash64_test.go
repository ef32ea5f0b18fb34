package hash64

import "testing"

// TestFNV1a: the published FNV-1a 64 test vectors, through both entry
// points.
func TestFNV1a(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
	}{
		{"", 0xcbf29ce484222325},
		{"a", 0xaf63dc4c8601ec8c},
		{"foobar", 0x85944171f73967e8},
	} {
		if got := AddString(Offset, tc.in); got != tc.want {
			t.Errorf("AddString(Offset, %q) = %#x, want %#x", tc.in, got, tc.want)
		}
		if got := AddBytes(Offset, []byte(tc.in)); got != tc.want {
			t.Errorf("AddBytes(Offset, %q) = %#x, want %#x", tc.in, got, tc.want)
		}
	}
}

// TestMix: splitmix64's finalizer keeps 0 and spreads 1 (the value
// splitmix64 itself gives for its first output from seed 0, whose state
// is then 0x9e3779b97f4a7c15).
func TestMix(t *testing.T) {
	if got := Mix(0); got != 0 {
		t.Errorf("Mix(0) = %#x, want 0", got)
	}
	if got, want := Mix(0x9e3779b97f4a7c15), uint64(0xe220a8397b1dcdaf); got != want {
		t.Errorf("Mix(golden) = %#x, want %#x (splitmix64's first output from seed 0)", got, want)
	}
}
