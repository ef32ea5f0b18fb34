package stream

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/lbtrust/lb/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }

// Fill must give the same bytes whatever the pieces a stream is read in:
// the stamps of a piece that starts or ends inside one are applied byte by
// byte.
func TestFillIsPieceIndependent(t *testing.T) {
	c := NewContent(7)
	const n = 3*BlockSize + 1234
	whole := make([]byte, n)
	c.Fill(whole, 0)
	for _, piece := range []int{1, 3, 7, 8, 9, 511, 512, 513, 4096, 65536 + 5, BlockSize - 1, BlockSize + 1} {
		got := make([]byte, 0, n)
		buf := make([]byte, piece)
		r := NewReader(c, n)
		for {
			k, err := r.Read(buf)
			got = append(got, buf[:k]...)
			if err == io.EOF {
				break
			}
		}
		if !bytes.Equal(got, whole) {
			t.Errorf("read in pieces of %d: differs from one Fill", piece)
		}
	}
	// And from any offset.
	for _, off := range []int64{1, 5, 511, 512, 513, BlockSize - 3, BlockSize, 2*BlockSize + 700} {
		p := make([]byte, 2000)
		c.Fill(p, off)
		if !bytes.Equal(p, whole[off:off+2000]) {
			t.Errorf("Fill at %d differs", off)
		}
	}
}

// Two blocks of one stream differ at every stamp and nowhere else; two
// seeds differ everywhere (nearly).
func TestStampsAndSeeds(t *testing.T) {
	c := NewContent(1)
	a, b := make([]byte, BlockSize), make([]byte, BlockSize)
	c.Fill(a, 0)
	c.Fill(b, BlockSize)
	for i := range a {
		if i%StampStride >= stampLen && a[i] != b[i] {
			t.Fatalf("byte %d of blocks 0 and 1 differs outside the stamps", i)
		}
	}
	diffStamps := 0
	for s := 0; s < BlockSize; s += StampStride {
		if !bytes.Equal(a[s:s+stampLen], b[s:s+stampLen]) {
			diffStamps++
		}
	}
	if diffStamps != BlockSize/StampStride {
		t.Errorf("%d of %d stamps differ between blocks 0 and 1", diffStamps, BlockSize/StampStride)
	}
	d := make([]byte, BlockSize)
	NewContent(2).Fill(d, 0)
	same := 0
	for i := range a {
		if a[i] == d[i] {
			same++
		}
	}
	if same > BlockSize/100 {
		t.Errorf("seeds 1 and 2 share %d of %d bytes", same, BlockSize)
	}
	if !bytes.Equal(a[:64], func() []byte { p := make([]byte, 64); NewContent(1).Fill(p, 0); return p }()) {
		t.Error("NewContent is not deterministic")
	}
}

// The Verifier accepts exactly the stream, and names the first wrong
// byte, a block in the wrong place, a short or a long body.
func TestVerifier(t *testing.T) {
	c := NewContent(3)
	const n = 2*BlockSize + 100
	good := make([]byte, n)
	c.Fill(good, 0)
	swapped := bytes.Clone(good)
	copy(swapped[BlockSize:2*BlockSize], good[:BlockSize]) // block 0 where block 1 belongs
	flipped := bytes.Clone(good)
	flipped[BlockSize+77] ^= 0x40
	for _, tc := range []struct {
		name string
		body []byte
		ok   bool
		at   string // in the error
	}{
		{"exact", good, true, ""},
		{"one byte flipped", flipped, false, "at byte 1048653"},
		{"block 0 repeated as block 1", swapped, false, "at byte 1048576"},
		{"short", good[:n-1], false, "2097251 bytes of 2097252"},
		{"long", append(bytes.Clone(good), 0), false, "more than the 2097252 bytes"},
		{"empty", nil, false, "0 bytes of"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := NewVerifier(c, n)
			_, copyErr := io.Copy(v, iotest.HalfReader(bytes.NewReader(tc.body)))
			err := v.Check()
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrMismatch)) {
				t.Fatalf("Check = %v, want ok %v", err, tc.ok)
			}
			if err != nil && !bytes.Contains([]byte(err.Error()), []byte(tc.at)) {
				t.Errorf("error %q does not say %q", err, tc.at)
			}
			if copyErr != nil && !errors.Is(copyErr, ErrMismatch) {
				t.Errorf("io.Copy: %v", copyErr)
			}
		})
	}
}

func TestDigest(t *testing.T) {
	c := NewContent(9)
	for _, n := range []int64{0, 1, 512, BlockSize + 3} {
		buf := make([]byte, n)
		c.Fill(buf, 0)
		want := sha256.Sum256(buf)
		if got := Digest(c, n); got != hex.EncodeToString(want[:]) {
			t.Errorf("Digest(%d) = %s, want %x", n, got, want)
		}
	}
}

// BenchmarkGeneration is the generator's speed (MB/s), which multi-GiB
// tests rely on. A speed is measured here, never asserted by a test: a
// loaded machine must not fail the suite.
func BenchmarkGeneration(b *testing.B) {
	c := NewContent(5)
	const n = 16 << 20
	b.SetBytes(n)
	for b.Loop() {
		if _, err := NewReader(c, n).WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

func TestParseAndFormatSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"0", 0}, {"4096", 4096}, {"10B", 10}, {"64MiB", 64 << 20}, {"64mib", 64 << 20}, {"1g", 1 << 30},
		{"1GiB", 1 << 30}, {"2 KiB", 2048}, {"3KB", 3000}, {"5MB", 5e6}, {"1GB", 1e9}, {"1T", 1 << 40}, {"7k", 7 << 10},
	} {
		if got, err := ParseSize(tc.in); err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "-1", "1.5MiB", "MiB", "12 parsecs", "99999999999TiB"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
	for n, want := range map[int64]string{0: "0B", 1000: "1000B", 1024: "1KiB", 64 << 20: "64MiB", 1 << 30: "1GiB", 3<<20 + 1: "3145729B"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}
