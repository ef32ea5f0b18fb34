// Package freeport picks loopback ports for servers a program (the bench)
// or a test starts and may restart on the same port.
package freeport

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
)

// Loopback returns n distinct 127.0.0.1 addresses that were free a moment
// ago. They are drawn below the kernel's ephemeral port range: a port
// picked inside it (by binding :0) can be taken, between its release and
// the server's bind, as the source port of any outgoing connection on the
// machine, while ports below it are only ever taken by an explicit bind.
// Safe for concurrent use.
func Loopback(n int) ([]string, error) {
	low := ephemeralLow()
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	var out []string
	for tries := 0; len(out) < n; tries++ {
		if tries > 1000 {
			return nil, errors.New("freeport: no free port found below the ephemeral range")
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", 10000+rand.IntN(low-10000)))
		if err != nil {
			continue
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().String())
	}
	return out, nil
}

// ephemeralLow is the first port of the kernel's ephemeral range, or 32768
// when /proc/sys/net/ipv4/ip_local_port_range cannot be read or starts too
// low to leave room below it.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	var low, high int
	if _, err := fmt.Sscan(string(b), &low, &high); err != nil || low <= 11000 {
		return 32768
	}
	return low
}

// Listen opens n TCP listeners on 127.0.0.1 on ports below the kernel's
// ephemeral range (see Loopback for why), for a program that serves many
// backends itself. The ports are held from the bind, so nothing can take
// them; they are tried in order from a random one, skipping any in use,
// so n may be in the thousands. Binding port 0 instead would take the
// ports from the ephemeral range, which outgoing connections (a load
// balancer's probes to those very backends) need, and would skip every
// port still held by a connection in TIME_WAIT.
func Listen(n int) ([]net.Listener, error) {
	low := ephemeralLow()
	span := low - 10000
	var lns []net.Listener
	start := rand.IntN(span)
	for i := 0; i < span && len(lns) < n; i++ {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", 10000+(start+i)%span))
		if err != nil {
			continue
		}
		lns = append(lns, ln)
	}
	if len(lns) < n {
		for _, ln := range lns {
			ln.Close()
		}
		return nil, fmt.Errorf("freeport: %d ports free in 127.0.0.1:10000-%d, %d wanted", len(lns), low-1, n)
	}
	return lns, nil
}
