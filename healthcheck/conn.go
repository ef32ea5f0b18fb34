package healthcheck

import (
	"context"
	"net"
	"time"
)

// dial opens a fresh TCP connection to address, bounded by ctx (its deadline
// and its cancellation both abort the connect and any DNS lookup). TCP
// keep-alive is off: a probe's connection lives for one exchange.
func dial(ctx context.Context, address string) (net.Conn, error) {
	d := net.Dialer{KeepAlive: -1}
	return d.DialContext(ctx, "tcp", address)
}

// bindContext ties conn's I/O to ctx: conn gets ctx's deadline, and when ctx
// is done (deadline or cancel) every pending and later read or write on conn
// fails at once with os.ErrDeadlineExceeded. The returned release undoes the
// tie and waits for it: once release returns, nothing touches conn on ctx's
// behalf and no goroutine is left. Call release before closing conn.
func bindContext(ctx context.Context, conn net.Conn) (release func()) {
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		_ = conn.SetDeadline(time.Unix(1, 0)) // long past: wake every waiter now
	})
	return func() {
		if !stop() {
			<-fired
		}
	}
}

// readRecorder is an io.Reader over a connection that remembers the last
// error the connection returned, so that a parser error hiding its cause can
// still be classified by what happened on the wire. Not safe for concurrent
// use; a probe reads from one goroutine.
type readRecorder struct {
	conn net.Conn
	err  error
	n    int // bytes read
}

// Read reads from the connection and records a non-nil error.
func (r *readRecorder) Read(p []byte) (int, error) {
	n, err := r.conn.Read(p)
	r.n += n
	if err != nil {
		r.err = err
	}
	return n, err
}
