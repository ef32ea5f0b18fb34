package healthcheck

import (
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// fullBacklog returns the address of a loopback listener that never
// accepts and whose accept queue is full, so that a new connection to it
// hangs in the TCP handshake (its SYNs are dropped) until the dialer
// gives up.
func fullBacklog(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "backlog")
	t.Cleanup(func() { f.Close() })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := (&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sa.(*syscall.SockaddrInet4).Port}).String()
	// Fill the queue: connections complete until it is full; the first
	// one that does not complete within the wait shows it is.
	for i := 0; i < 64; i++ {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return addr
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Skip("the accept queue never filled: cannot make a dial hang here")
	return ""
}

// TestRunStopsMidDial: stopping a run whose kept-alive probe is dialing a
// backend that never completes the handshake returns at once, not after
// the probe timeout, and reports nothing.
func TestRunStopsMidDial(t *testing.T) {
	addr := fullBacklog(t)
	rec := &recorder{}
	c := newChecker(t, Spec{Interval: time.Minute, Timeout: 30 * time.Second}, addr, rec)
	stop := run(t, c)
	time.Sleep(300 * time.Millisecond) // let the first probe start dialing; the stop must not wait for it either way
	if took := stop(); took > 5*time.Second {
		t.Fatalf("Run took %v to return; the probe timeout is 30s", took)
	}
	if n := rec.len(); n != 0 {
		t.Fatalf("%d reports, want none: an abandoned probe says nothing about the backend", n)
	}
}
