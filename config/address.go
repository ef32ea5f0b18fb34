package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// hostPort is a parsed host:port address.
type hostPort struct {
	host string // as written, without IPv6 brackets; may be empty
	port int    // 0..65535
}

// key is the address in a form where two spellings of one address are
// equal: the host lower-cased, the port without leading zeros.
func (a hostPort) key() string {
	return net.JoinHostPort(strings.ToLower(a.host), strconv.Itoa(a.port))
}

// wildcard reports whether the host binds every interface.
func (a hostPort) wildcard() bool {
	switch a.host {
	case "", "0.0.0.0", "::":
		return true
	}
	return false
}

// clashes reports whether listening on a and b at once would fail: the
// ports are equal and non-zero and the hosts are equal, or one of them
// binds every interface. Port 0 (kernel-chosen) never clashes.
func (a hostPort) clashes(b hostPort) bool {
	if a.port == 0 || a.port != b.port {
		return false
	}
	return a.wildcard() || b.wildcard() || strings.EqualFold(a.host, b.host)
}

// parseHostPort splits addr into host and a numeric port in 0..65535,
// using net.SplitHostPort. The host may be empty (":8080").
func parseHostPort(addr string) (hostPort, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			return hostPort{}, fmt.Errorf("%q is not host:port: %s", addr, ae.Err)
		}
		return hostPort{}, fmt.Errorf("%q is not host:port", addr)
	}
	if strings.ContainsAny(host, " \t/") {
		return hostPort{}, fmt.Errorf("%q has an invalid host %q", addr, host)
	}
	if portText == "" || strings.TrimLeft(portText, "0123456789") != "" {
		return hostPort{}, fmt.Errorf("%q has port %q, which is not a number", addr, portText)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port > 65535 {
		return hostPort{}, fmt.Errorf("%q has port %s, outside 0..65535", addr, portText)
	}
	return hostPort{host: host, port: port}, nil
}
