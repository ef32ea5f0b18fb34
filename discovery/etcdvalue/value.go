// Package etcdvalue is the value of a backend's key under an etcd
// discovery prefix, {"address":"IP:port","weight":N}: parsed by the etcd
// discovery source (discovery/etcd) and written by lb register. It is a
// leaf of its own, free of the etcd client, so that its parser is cheap
// to build and fuzz.
//
// The rules: the value is one JSON object; "address" is required and must
// be IP:port with a port in 1..65535 (a host name is not resolved), and
// is made canonical (an IPv4-mapped IPv6 address becomes IPv4, IPv6 is
// compressed, in brackets); "weight" is optional, at least 1, default
// DefaultWeight; other fields are ignored.
package etcdvalue

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"

	"github.com/lbtrust/lb/discovery"
)

// DefaultWeight is a backend's weight when its value has none. It equals
// config.DefaultWeight, a backend block's default.
const DefaultWeight = 1

// value is the JSON of one key.
type value struct {
	Address *string `json:"address"`
	Weight  *int    `json:"weight"`
}

// Parse decodes one key's value, {"address":"IP:port","weight":N},
// into a target with a canonical address (see the package doc for the
// rules). The error says what is wrong, without the key.
func Parse(b []byte) (discovery.Target, error) {
	var v value
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&v); err != nil {
		return discovery.Target{}, fmt.Errorf("not a JSON object with an address and an optional weight: %v", err)
	}
	if d.More() {
		return discovery.Target{}, errors.New("not a JSON object with an address and an optional weight: data after the object")
	}
	if v.Address == nil {
		return discovery.Target{}, errors.New(`no "address"`)
	}
	addr, err := ParseAddress(*v.Address)
	if err != nil {
		return discovery.Target{}, err
	}
	t := discovery.Target{Address: addr, Weight: DefaultWeight}
	if v.Weight != nil {
		if *v.Weight < 1 {
			return discovery.Target{}, fmt.Errorf("weight %d: must be at least 1 (or left out for %d)", *v.Weight, DefaultWeight)
		}
		t.Weight = *v.Weight
	}
	return t, nil
}

// ParseAddress checks that s is "IP:port" with a port in 1..65535 and
// returns its canonical form (an IPv4-mapped IPv6 address becomes IPv4;
// IPv6 is compressed, in brackets).
func ParseAddress(s string) (string, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return "", fmt.Errorf("address %q: want IP:port (a host name is not resolved here): %v", s, err)
	}
	if ap.Port() == 0 {
		return "", fmt.Errorf("address %q: port 0, want 1..65535", s)
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String(), nil
}

// Encode renders the JSON value of a backend's key, the inverse of
// Parse: {"address":"...","weight":N}. address is written as given.
func Encode(address string, weight int) []byte {
	b, _ := json.Marshal(struct {
		Address string `json:"address"`
		Weight  int    `json:"weight"`
	}{address, weight})
	return b
}
