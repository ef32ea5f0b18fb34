package healthcheck

import (
	"bufio"
	"io"
	"sync"
)

// readBufferSize bounds an answer's status line and headers together (and
// a chunked answer's trailer block); a larger block fails the probe with
// check_error.
const readBufferSize = 8 << 10

// smallReadSize is the read buffer a probe starts with: room for the
// status line and headers of nearly every health answer (a few hundred
// bytes). An answer whose header block is larger goes on in a buffer of
// readBufferSize holding what was already read (see exchange), so the
// limit above is unchanged; only the memory of the common case shrinks.
// It matters at scale: a check tick of 10,000 backends every 5 s starts
// 500 probes at once, each holding its buffer until its answer is read.
const smallReadSize = 1 << 10

// probeBuffers lends buffers to probes for the time of one exchange, so a
// thousand checkers share the few buffers in use at any moment instead of
// keeping one each: a small reader with the request's bytes, and a
// full-size reader for the rare answer whose header block does not fit the
// small one. The zero value is ready to use; safe for concurrent use.
type probeBuffers struct {
	small sync.Pool // of *probeIO
	large sync.Pool // of *largeIO
}

// probeIO is what a probe borrows for one exchange: the request it
// writes (built per probe, so no checker keeps its request's bytes) and a
// small reader for the answer. One allocation besides the reader's buffer.
type probeIO struct {
	br     bufio.Reader // of smallReadSize
	req    []byte       // reqBuf's, unless a request outgrew it
	reqBuf [256]byte
}

// largeIO is a full-size reader that first returns what a small reader
// had already read.
type largeIO struct {
	carry carryReader
	br    *bufio.Reader // of readBufferSize, reading carry
}

// get returns a probeIO reading r; give it back with put.
func (b *probeBuffers) get(r io.Reader) *probeIO {
	if pio, ok := b.small.Get().(*probeIO); ok {
		pio.br.Reset(r)
		return pio
	}
	pio := &probeIO{br: *bufio.NewReaderSize(r, smallReadSize)}
	pio.req = pio.reqBuf[:0]
	return pio
}

// put takes pio back; it must not be used after.
func (b *probeBuffers) put(pio *probeIO) {
	pio.br.Reset(nil)
	pio.req = pio.req[:0]
	b.small.Put(pio)
}

// grow returns a full-size reader that reads what small has buffered and
// then from r; give it back with putLarge. small must not be read from
// until then (the carried bytes are its buffer's).
func (b *probeBuffers) grow(small *bufio.Reader, r io.Reader) *largeIO {
	l, ok := b.large.Get().(*largeIO)
	if !ok {
		l = &largeIO{}
		l.br = bufio.NewReaderSize(&l.carry, readBufferSize)
	}
	pending, _ := small.Peek(small.Buffered())
	l.carry = carryReader{pending: pending, r: r}
	l.br.Reset(&l.carry)
	return l
}

// putLarge takes l back; it must not be used after.
func (b *probeBuffers) putLarge(l *largeIO) {
	l.carry = carryReader{}
	l.br.Reset(&l.carry)
	b.large.Put(l)
}

// drained reports whether l holds no byte that was read and not parsed.
func (l *largeIO) drained() bool { return l.br.Buffered() == 0 && len(l.carry.pending) == 0 }

// carryReader returns pending, then reads from r.
type carryReader struct {
	pending []byte
	r       io.Reader
}

// Read implements io.Reader.
func (c *carryReader) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	if c.r == nil {
		return 0, io.EOF
	}
	return c.r.Read(p)
}
