package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lbtrust/lb/pool"
	"go.uber.org/zap"
)

// Tunnel states: handed to fasthttp but not yet running, running, done.
const (
	tunnelPending uint32 = iota
	tunnelRunning
	tunnelDone
)

// tunnelBufferSize is the copy buffer of each direction.
const tunnelBufferSize = 32 << 10

// tunnel is one upgraded connection: the client's hijacked connection
// spliced to a backend connection that answered 101. It holds an
// in-flight slot on its backend (pool.Backend.Upgraded) until it ends,
// and sits in its Handler's and its BackendClient's tunnel sets.
type tunnel struct {
	log      *zap.Logger
	listener string
	poolName string
	protocol string // the Upgrade header the client sent
	backend  *pool.Backend
	owner    *BackendClient
	handler  *longSet
	idle     time.Duration
	started  time.Time

	bconn net.Conn      // the backend connection
	br    *bufio.Reader // reads bconn, holding what followed the 101 head
	head  []byte        // the 101 head to send the client

	cconn atomic.Pointer[net.Conn] // the client connection, once run has it
	state atomic.Uint32
	cause atomic.Uint32
	last  atomic.Int64 // unix ns of the latest byte either way

	// in and out count the bytes from and to the client, for alog, the
	// access log line written when the tunnel ends (nil: none).
	in, out atomic.Int64
	alog    atomic.Pointer[pendingLog]
}

// close ends the tunnel for cause (unless an earlier cause was recorded):
// both connections are closed, which makes both copy loops return. A
// tunnel fasthttp has not started yet is finished here. Safe for
// concurrent use; any number of calls.
func (t *tunnel) close(cause closeCause) {
	t.cause.CompareAndSwap(uint32(causeNone), uint32(cause))
	t.bconn.Close()
	if c := t.cconn.Load(); c != nil {
		(*c).Close()
	}
	if t.state.CompareAndSwap(tunnelPending, tunnelDone) {
		t.finish()
	}
}

// run is the fasthttp.HijackHandler of the tunnel: it sends the 101 head
// to the client, then copies bytes both ways until both sides are done,
// the tunnel is idle, or it is closed. c reads the client's bytes that
// fasthttp had buffered after the request first. fasthttp closes c when
// run returns; nothing touches it afterwards.
func (t *tunnel) run(c net.Conn) {
	raw := c
	if u, ok := c.(interface{ UnsafeConn() net.Conn }); ok {
		// fasthttp's wrapper does not close (it does that itself after
		// run), and close must be able to cut the connection.
		raw = u.UnsafeConn()
	}
	if h, ok := raw.(interface{ hijacked() }); ok {
		// A listener's limitConn: its request deadlines end here.
		h.hijacked()
	}
	t.cconn.Store(&raw)
	if !t.state.CompareAndSwap(tunnelPending, tunnelRunning) {
		return // closed before it started; finish has run
	}
	defer func() {
		t.cause.CompareAndSwap(uint32(causeNone), uint32(causeEnded))
		t.bconn.Close()
		raw.Close()
		t.state.Store(tunnelDone)
		t.finish()
	}()
	t.touch()
	raw.SetWriteDeadline(time.Now().Add(t.idle))
	if _, err := raw.Write(t.head); err != nil {
		t.close(failCause(err))
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { t.pipe(raw, t.br, t.bconn) })
	t.pipe(t.bconn, c, raw)
	wg.Wait()
}

// pipe copies src (which reads srcConn) to dst until src ends. At a clean
// end of src it half-closes dst, so the peer sees the end and the other
// direction goes on; any error closes the whole tunnel.
func (t *tunnel) pipe(dst net.Conn, src io.Reader, srcConn net.Conn) {
	buf := make([]byte, tunnelBufferSize)
	for {
		srcConn.SetReadDeadline(time.Unix(0, t.last.Load()).Add(t.idle))
		n, err := src.Read(buf)
		if n > 0 {
			t.touch()
			dst.SetWriteDeadline(time.Now().Add(t.idle))
			if dst == t.bconn {
				t.in.Add(int64(n))
			} else {
				t.out.Add(int64(n))
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				t.close(failCause(werr))
				return
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			if cw, ok := dst.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
				return
			}
			t.close(causeEnded) // no half-close: end both
			return
		case isTimeout(err):
			if time.Since(time.Unix(0, t.last.Load())) < t.idle {
				continue // the other direction is busy
			}
			t.close(causeIdle)
			return
		default:
			t.close(causeError)
			return
		}
	}
}

// touch records traffic now.
func (t *tunnel) touch() { t.last.Store(time.Now().UnixNano()) }

// finish releases the backend slot, leaves both sets, gives back the
// place handshake reserved under the connection cap and logs the end. It
// runs exactly once per tunnel.
func (t *tunnel) finish() {
	t.handler.remove(t)
	t.owner.tunnels.remove(t)
	t.owner.tunnelSlots.give()
	t.backend.ReleaseUpgraded()
	cause := closeCause(t.cause.Load())
	if p := t.alog.Load(); p != nil {
		p.finish(cause, t.in.Load(), t.out.Load())
	}
	level, msg := zap.DebugLevel, "websocket closed"
	switch cause {
	case causeDeregistration:
		level, msg = zap.InfoLevel, "websocket closed: deregistration delay expired"
	case causeShutdown:
		level, msg = zap.InfoLevel, "websocket closed: shutdown grace period over"
	}
	if ce := t.log.Check(level, msg); ce != nil {
		ce.Write(
			zap.String("listener", t.listener),
			zap.String("pool", t.poolName),
			zap.String("backend", t.backend.Address()),
			zap.String("upgrade", t.protocol),
			zap.Duration("duration", time.Since(t.started)),
			zap.Stringer("cause", cause),
		)
	}
}

// failCause is the cause of a failed read or write.
func failCause(err error) closeCause {
	if isTimeout(err) {
		return causeIdle
	}
	return causeError
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
