package proxy

import (
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// rawSock reads and writes a plain TCP connection's socket with raw
// system calls, for the two connections of every proxied exchange (the
// client's, limitConn, and the backend's, trackedConn).
//
// net.Conn's Read and Write enter the scheduler's system-call state
// (entersyscall): that wakes Go's system monitor when it sleeps, and lets
// it hand the processor to another thread when the call lasts longer than
// its poll (20 µs when just woken; a loopback write that also runs the
// receiver's TCP processing can). A proxy at a few thousand requests a
// second paid for both on nearly every request (see the README, "System
// calls on the request path"). The socket is non-blocking, so its read and write
// never block: rawSock makes them as raw system calls and, on EAGAIN,
// waits for readiness through the netpoller (syscall.RawConn), as
// net.Conn does. Deadlines, Close, and the errors (*net.OpError wrapping
// *os.SyscallError, io.EOF, net.ErrClosed, os.ErrDeadlineExceeded) behave
// as net.Conn's. Safe for concurrent use, as net.Conn is (reads
// serialize, and writes).
type rawSock struct {
	rc syscall.RawConn // nil: not plain TCP, read and write through c
	c  net.Conn        // the connection (its addresses go in errors)

	// The reader's state and callback, under rmu (concurrent reads
	// serialize, as on a net.Conn): the callbacks are bound once, so a
	// read or write allocates nothing.
	rmu    sync.Mutex
	rbuf   []byte
	rn     int
	rerrno syscall.Errno
	readFn func(fd uintptr) bool
	// The writer's, under wmu.
	wmu     sync.Mutex
	wbuf    []byte
	wn      int
	werrno  syscall.Errno
	wshort  bool
	writeFn func(fd uintptr) bool
}

// newRawSock returns the socket I/O of c: raw when c is a *net.TCPConn,
// else (TLS, a test's pipe) c's own Read and Write.
func newRawSock(c net.Conn) *rawSock {
	s := &rawSock{c: c}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return s
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return s
	}
	s.rc = rc
	s.readFn, s.writeFn = s.readOnce, s.writeSome
	return s
}

// isRaw reports whether reads and writes are raw system calls.
func (s *rawSock) isRaw() bool { return s.rc != nil }

// read is net.Conn.Read.
func (s *rawSock) read(p []byte) (int, error) {
	if s.rc == nil {
		return s.c.Read(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	s.rmu.Lock()
	s.rbuf, s.rn, s.rerrno = p, 0, 0
	err := s.rc.Read(s.readFn)
	n, errno := s.rn, s.rerrno
	s.rbuf = nil
	s.rmu.Unlock()
	switch {
	case err != nil:
		return 0, s.opError("read", err)
	case errno != 0:
		return 0, s.opError("read", os.NewSyscallError("read", errno))
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// readOnce is read's callback: one read(2) into rbuf; false (wait until
// readable) on EAGAIN.
func (s *rawSock) readOnce(fd uintptr) bool {
	for {
		r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&s.rbuf[0])), uintptr(len(s.rbuf)))
		switch e {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		s.rn, s.rerrno = int(r), e
		return true
	}
}

// write is net.Conn.Write: all of p, or an error with what was written.
func (s *rawSock) write(p []byte) (int, error) {
	if s.rc == nil {
		return s.c.Write(p)
	}
	s.wmu.Lock()
	s.wbuf, s.wn, s.werrno, s.wshort = p, 0, 0, false
	err := s.rc.Write(s.writeFn)
	written, errno, short := s.wn, s.werrno, s.wshort
	s.wbuf = nil
	s.wmu.Unlock()
	switch {
	case err != nil:
		return written, s.opError("write", err)
	case errno != 0:
		return written, s.opError("write", os.NewSyscallError("write", errno))
	case short:
		return written, s.opError("write", io.ErrShortWrite)
	}
	return written, nil
}

// writeSome is write's callback: write(2) until wbuf is sent; false (wait
// until writable) on EAGAIN.
func (s *rawSock) writeSome(fd uintptr) bool {
	for s.wn < len(s.wbuf) {
		r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&s.wbuf[s.wn])), uintptr(len(s.wbuf)-s.wn))
		switch e {
		case 0:
			if r == 0 {
				s.wshort = true
				return true
			}
			s.wn += int(r)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			s.werrno = e
			return true
		}
	}
	return true
}

// opError is err as net.Conn reports it.
func (s *rawSock) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: s.c.LocalAddr(), Addr: s.c.RemoteAddr(), Err: err}
}
