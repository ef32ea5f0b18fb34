package config

import "slices"

// Equal reports whether d and o read the same source the same way, so a
// reload may keep d's source running for o: both nil, or the same type
// and every setting equal. Where the block is declared (DeclRange) does
// not count. An etcd block's password is compared by content, and its TLS
// by the contents of its files as read at load, so a file rewritten in
// place is a change. Endpoints compare in order.
func (d *Discovery) Equal(o *Discovery) bool {
	if d == nil || o == nil {
		return d == o
	}
	return d.Type == o.Type && d.DNS.equal(o.DNS) && d.Etcd.equal(o.Etcd)
}

// equal compares every setting of two dns blocks; nil equals only nil.
func (d *DNSDiscovery) equal(o *DNSDiscovery) bool {
	if d == nil || o == nil {
		return d == o
	}
	// Every field is comparable; a field that is not would stop this
	// line compiling, and then it needs its own comparison here.
	return *d == *o
}

// equal compares every setting of two etcd blocks; nil equals only nil.
func (e *EtcdDiscovery) equal(o *EtcdDiscovery) bool {
	if e == nil || o == nil {
		return e == o
	}
	return slices.Equal(e.Endpoints, o.Endpoints) &&
		e.Prefix == o.Prefix &&
		e.Username == o.Username &&
		e.Password == o.Password &&
		e.PasswordFile == o.PasswordFile &&
		e.DialTimeout == o.DialTimeout &&
		(e.TLS == nil) == (o.TLS == nil) &&
		e.tlsSum == o.tlsSum
}
