package proxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// tcpPair is a connected loopback TCP pair: the raw side and its peer.
func tcpPair(t *testing.T) (raw *rawSock, conn net.Conn, peer net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	conn, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer = <-accepted
	if peer == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { conn.Close(); peer.Close() })
	raw = newRawSock(conn)
	if !raw.isRaw() {
		t.Fatal("no raw socket for a *net.TCPConn")
	}
	return raw, conn, peer
}

// TestRawSockIsOnlyForTCP: another net.Conn (a pipe here, TLS in lb)
// is read and written through its own methods.
func TestRawSockIsOnlyForTCP(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	s := newRawSock(a)
	if s.isRaw() {
		t.Fatal("a raw socket for a pipe")
	}
	go b.Write([]byte("hi"))
	buf := make([]byte, 8)
	if n, err := s.read(buf); err != nil || string(buf[:n]) != "hi" {
		t.Fatalf("read through the pipe: %q, %v", buf[:n], err)
	}
}

// TestRawSockReadsAndWritesLikeNetConn: a write larger than the socket
// buffers completes whole (it waits for the peer to read), reads return
// what came, and the peer's close is io.EOF.
func TestRawSockReadsAndWritesLikeNetConn(t *testing.T) {
	raw, _, peer := tcpPair(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<19) // 8 MiB
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(peer, int64(len(big))))
		got <- b
	}()
	if n, err := raw.write(big); n != len(big) || err != nil {
		t.Fatalf("write: %d, %v; want %d, nil", n, err, len(big))
	}
	if b := <-got; !bytes.Equal(b, big) {
		t.Fatalf("the peer read %d bytes, not what was written", len(b))
	}

	if _, err := peer.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := raw.read(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read: %q, %v", buf[:n], err)
	}
	if n, err := raw.read(nil); n != 0 || err != nil {
		t.Fatalf("read of nothing: %d, %v", n, err)
	}
	peer.Close()
	if n, err := raw.read(buf); n != 0 || err != io.EOF {
		t.Fatalf("read after the peer closed: %d, %v; want 0, io.EOF", n, err)
	}
}

// TestRawSockErrorsAreNetConns: a deadline is a timeout net.Error, a
// closed connection net.ErrClosed, a reset ECONNRESET, each in a
// *net.OpError.
func TestRawSockErrorsAreNetConns(t *testing.T) {
	raw, conn, peer := tcpPair(t)
	buf := make([]byte, 16)

	conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err := raw.read(buf)
	var ne net.Error
	var oe *net.OpError
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &oe) || oe.Op != "read" {
		t.Fatalf("read past its deadline: %v; want a read *net.OpError that is a timeout", err)
	}
	conn.SetReadDeadline(time.Time{})

	// The peer resets: an RST instead of a FIN.
	peer.(*net.TCPConn).SetLinger(0)
	peer.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err = raw.read(buf)
		if err != nil || time.Now().After(deadline) {
			break
		}
	}
	if !errors.Is(err, syscall.ECONNRESET) || !errors.As(err, &oe) {
		t.Fatalf("read after the peer reset: %v; want ECONNRESET in a *net.OpError", err)
	}

	conn.Close()
	if _, err := raw.write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after Close: %v; want net.ErrClosed", err)
	}
	if _, err := raw.read(buf); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after Close: %v; want net.ErrClosed", err)
	}
}
