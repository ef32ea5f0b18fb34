package stream

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
)

// BlockSize is the length, in bytes, of the random block a Content
// repeats: byte x of a stream is byte x mod BlockSize of the block, except
// for the stamps.
const BlockSize = 1 << 20

// StampStride is the distance, in bytes, between two stamps: the 8 bytes
// starting at every multiple of StampStride inside a block are XORed with
// a key derived from the seed and the block's index, so a run of
// StampStride bytes or more taken from another block (a repeated, lost or
// reordered buffer) does not match.
const StampStride = 512

// stampLen is how many bytes a stamp covers.
const stampLen = 8

// fillBuffer is the scratch buffer size of Reader.WriteTo, Verifier and
// Digest, in bytes.
const fillBuffer = 256 << 10

// Content is the deterministic pseudo-random byte stream of one seed: a
// BlockSize block drawn from the seed (ChaCha8), repeated, each copy
// stamped with its index (see StampStride). Producing it costs a memmove
// and one 8-byte XOR per StampStride bytes, so a client can regenerate
// what a server sent at memory speed. A Content is immutable and safe for
// concurrent use; it holds BlockSize bytes.
type Content struct {
	seed  uint64
	block []byte
}

// NewContent draws seed's block (about a millisecond).
func NewContent(seed uint64) *Content {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:8], seed)
	copy(key[8:], "lb demo/stream content v1")
	block := make([]byte, BlockSize)
	rand.NewChaCha8(key).Read(block)
	return &Content{seed: seed, block: block}
}

// Seed is the seed the content was drawn from.
func (c *Content) Seed() uint64 { return c.seed }

// blockKey is the stamp of block index i: a SplitMix64 mix of the seed and
// the index, never 0 (a zero key would leave the block unstamped).
func (c *Content) blockKey(i int64) uint64 {
	z := c.seed ^ (uint64(i)+1)*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	z ^= z >> 31
	if z == 0 {
		z = 1
	}
	return z
}

// Fill writes the len(p) bytes of the stream that start at offset off
// (>= 0) into p. The stream has no end: a Reader bounds it.
func (c *Content) Fill(p []byte, off int64) {
	for len(p) > 0 {
		b, o := off/BlockSize, int(off%BlockSize)
		n := copy(p, c.block[o:])
		stamp(p[:n], o, c.blockKey(b))
		p, off = p[n:], off+int64(n)
	}
}

// stamp XORs key into seg, the bytes of one block from offset o on,
// wherever they overlap a stamp (the stampLen bytes at each multiple of
// StampStride). Byte j of a stamp takes byte j of key, little endian.
func stamp(seg []byte, o int, key uint64) {
	end := o + len(seg)
	for s := o - o%StampStride; s < end; s += StampStride {
		if s >= o && s+stampLen <= end {
			x := seg[s-o : s-o+stampLen]
			binary.LittleEndian.PutUint64(x, binary.LittleEndian.Uint64(x)^key)
			continue
		}
		for j := range stampLen {
			if q := s + j; q >= o && q < end {
				seg[q-o] ^= byte(key >> (8 * j))
			}
		}
	}
}

// Reader reads the first n bytes of a Content. It is not safe for
// concurrent use.
type Reader struct {
	c      *Content
	off, n int64
}

// NewReader returns a reader of the first n bytes of c.
func NewReader(c *Content, n int64) *Reader { return &Reader{c: c, n: max(n, 0)} }

// Read fills p with the next bytes of the stream; io.EOF after n bytes.
func (r *Reader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	m := int(min(int64(len(p)), r.n-r.off))
	r.c.Fill(p[:m], r.off)
	r.off += int64(m)
	return m, nil
}

// Len is how many bytes are left to read.
func (r *Reader) Len() int64 { return r.n - r.off }

// WriteTo writes the rest of the stream to w in large pieces.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	buf := make([]byte, min(fillBuffer, max(r.Len(), 1)))
	var total int64
	for r.off < r.n {
		m, _ := r.Read(buf)
		k, err := w.Write(buf[:m])
		total += int64(k)
		if err != nil {
			return total, err
		}
		if k < m {
			return total, io.ErrShortWrite
		}
	}
	return total, nil
}

// Digest is the SHA-256 (lower-case hex) of the first n bytes of c: what
// /upload answers for a body of those bytes. It takes about a second per
// 2 GiB on a core with SHA instructions.
func Digest(c *Content, n int64) string {
	h := sha256.New()
	NewReader(c, n).WriteTo(h)
	return hex.EncodeToString(h.Sum(nil))
}

// Verifier is an io.Writer that checks what is written to it against the
// first n bytes of a Content, byte for byte, as it arrives: no digest to
// compute, and a mismatch names its offset. Write returns the first
// mismatch as its error (so io.Copy stops there); Check says whether
// exactly the n bytes arrived. Not safe for concurrent use.
type Verifier struct {
	c      *Content
	off, n int64
	buf    []byte
	err    error
}

// NewVerifier returns a verifier of the first n bytes of c.
func NewVerifier(c *Content, n int64) *Verifier {
	return &Verifier{c: c, n: n, buf: make([]byte, min(fillBuffer, max(n, 1)))}
}

// ErrMismatch is the error (wrapped) of a Verifier whose input differs
// from the expected stream, or is longer or shorter than it.
var ErrMismatch = errors.New("stream content mismatch")

// Write compares p with the next len(p) expected bytes.
func (v *Verifier) Write(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	done := 0
	for len(p) > 0 {
		if v.off >= v.n {
			v.err = fmt.Errorf("%w: more than the %d bytes expected", ErrMismatch, v.n)
			return done, v.err
		}
		k := int(min(int64(len(p)), int64(len(v.buf)), v.n-v.off))
		want := v.buf[:k]
		v.c.Fill(want, v.off)
		if !bytes.Equal(p[:k], want) {
			i := 0
			for p[i] == want[i] {
				i++
			}
			v.err = fmt.Errorf("%w at byte %d: got %#02x, want %#02x", ErrMismatch, v.off+int64(i), p[i], want[i])
			return done + i, v.err
		}
		v.off += int64(k)
		done += k
		p = p[k:]
	}
	return done, nil
}

// Received is how many bytes matched so far.
func (v *Verifier) Received() int64 { return v.off }

// Check is nil once exactly the n expected bytes were written, else the
// first mismatch or the shortfall.
func (v *Verifier) Check() error {
	if v.err != nil {
		return v.err
	}
	if v.off != v.n {
		return fmt.Errorf("%w: %d bytes of %d", ErrMismatch, v.off, v.n)
	}
	return nil
}

// sizeUnit is a suffix ParseSize accepts and its multiplier.
type sizeUnit struct {
	suffix string
	mult   int64
}

// sizeUnits are the suffixes ParseSize accepts, each before any suffix
// of it.
func sizeUnits() []sizeUnit {
	return []sizeUnit{
		{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
		{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
		{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
		{"b", 1},
	}
}

// ParseSize reads a byte count: a non-negative integer with an optional
// unit, case-insensitive: B; KiB, MiB, GiB, TiB (or K, M, G, T: powers of
// 1024); KB, MB, GB, TB (powers of 1000). "64MiB", "1g", "4096".
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range sizeUnits() {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("size %q: want a non-negative integer with an optional unit (B, KiB, MiB, GiB, KB, MB, GB)", s)
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * mult, nil
}

// FormatSize renders a byte count with the largest binary unit that
// divides it ("64MiB", "1GiB", "1000B").
func FormatSize(n int64) string {
	for _, u := range []struct {
		name string
		mult int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.mult && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}
