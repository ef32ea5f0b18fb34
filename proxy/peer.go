package proxy

import (
	"crypto/tls"
	"errors"
	"net"
	"syscall"
)

// peerGone reports whether the peer of c has closed or reset the
// connection, without reading from it: it peeks at the socket (MSG_PEEK,
// non-blocking). Bytes waiting to be read (a pipelined request, a TLS
// record) mean the peer is there, as does a connection it cannot look
// into (not a TCP socket: an in-memory pipe in tests). A TLS client that
// closes sends close_notify before its FIN, so it is seen at the next
// write instead. It does not allocate beyond the syscall.
func peerGone(c net.Conn) bool {
	for {
		switch x := c.(type) {
		case *limitConn:
			c = x.Conn
			continue
		case *limitTLSConn:
			c = x.tc
			continue
		case *tls.Conn:
			c = x.NetConn()
			continue
		}
		break
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	gone := false
	// Control, not Read: the client's read deadline (its request's) may
	// have passed, and Read would refuse to run at all.
	err = rc.Control(func(fd uintptr) {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case n > 0, errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EINTR):
		case err != nil, n == 0:
			gone = true
		}
	})
	return gone || err != nil
}
