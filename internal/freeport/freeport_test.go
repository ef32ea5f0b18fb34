package freeport

import (
	"net"
	"strconv"
	"testing"
)

func TestLoopbackPortsAreDistinctFreeAndBelowTheEphemeralRange(t *testing.T) {
	addrs, err := Loopback(20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	low := ephemeralLow()
	for _, a := range addrs {
		host, port, err := net.SplitHostPort(a)
		if err != nil || host != "127.0.0.1" {
			t.Fatalf("address %q", a)
		}
		if p, _ := strconv.Atoi(port); p < 10000 || p >= low {
			t.Fatalf("port %d outside [10000, %d)", p, low)
		}
		if seen[a] {
			t.Fatalf("%s twice", a)
		}
		seen[a] = true
		ln, err := net.Listen("tcp", a)
		if err != nil {
			t.Fatalf("%s not free: %v", a, err)
		}
		ln.Close()
	}
}

func TestListenHoldsDistinctPortsBelowTheEphemeralRange(t *testing.T) {
	lns, err := Listen(200)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	low := ephemeralLow()
	seen := map[string]bool{}
	for _, ln := range lns {
		a := ln.Addr().String()
		host, port, err := net.SplitHostPort(a)
		if err != nil || host != "127.0.0.1" {
			t.Fatalf("address %q", a)
		}
		if p, _ := strconv.Atoi(port); p < 10000 || p >= low {
			t.Fatalf("port %d outside [10000, %d)", p, low)
		}
		if seen[a] {
			t.Fatalf("%s twice", a)
		}
		seen[a] = true
	}
}
