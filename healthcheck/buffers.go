package healthcheck

import (
	"bufio"
	"io"
	"sync"
)

// readBufferSize bounds an answer's status line and headers together; a
// larger header block fails the probe with check_error.
const readBufferSize = 8 << 10

// probeBuffers lends read buffers to probes for the time of one answer, so
// a thousand checkers share the few buffers that are reading at any moment
// instead of keeping one each. The zero value is ready to use; safe for
// concurrent use.
type probeBuffers struct {
	readers sync.Pool // of *bufio.Reader of readBufferSize
}

// reader returns a buffered reader over r; give it back with release.
func (b *probeBuffers) reader(r io.Reader) *bufio.Reader {
	if br, ok := b.readers.Get().(*bufio.Reader); ok {
		br.Reset(r)
		return br
	}
	return bufio.NewReaderSize(r, readBufferSize)
}

// release takes br back; br must not be used after.
func (b *probeBuffers) release(br *bufio.Reader) {
	br.Reset(nil)
	b.readers.Put(br)
}
