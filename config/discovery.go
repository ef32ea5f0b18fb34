package config

import (
	"crypto/sha256"
	"crypto/tls"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Discovery source types: the label of a pool's `discovery "TYPE"` block.
const (
	DiscoveryDNS  = "dns"
	DiscoveryEtcd = "etcd"
)

// DNS record types a dns discovery block looks up ("type").
const (
	DNSRecordSRV = "srv" // SRV: host, port and weight per record
	DNSRecordA   = "a"   // A and AAAA: one backend per address, on Port
)

// Discovery is a `discovery "dns"` or `discovery "etcd"` block inside a
// pool: a registry the pool's backends come from, beside (or instead of)
// its backend blocks. Exactly one of DNS and Etcd is set, as Type says.
type Discovery struct {
	// Type is the block label: DiscoveryDNS or DiscoveryEtcd.
	Type string
	// DNS is the dns block's settings; nil for etcd.
	DNS *DNSDiscovery
	// Etcd is the etcd block's settings; nil for dns.
	Etcd *EtcdDiscovery
	// DeclRange is where the block is declared.
	DeclRange hcl.Range
}

// DNSDiscovery is a `discovery "dns"` block.
type DNSDiscovery struct {
	// Name is the name looked up ("name", required): an SRV name such as
	// "_http._tcp.web.service.internal" for Type srv, a host name for
	// Type a. A trailing dot is optional in the file; Name holds the name
	// lower-cased, without it. It is never an IP address.
	Name string
	// Type is the record type ("type", DNSRecordSRV or DNSRecordA;
	// default srv when Name starts with "_", else a).
	Type string
	// Port is the backends' port for Type a ("port", required for a, 1..65535;
	// refused for srv, whose records carry their port).
	Port int
	// Resolver is the DNS server asked, "host:port" ("resolver"; default
	// "": the first nameserver of /etc/resolv.conf, port 53). Written, it
	// is an IP address and a port, both required, held in
	// netip.AddrPort's form ("127.0.0.1:8600", "[::1]:53").
	Resolver string
	// Refresh is how often the name is looked up again ("refresh"; default
	// 0: follow the answer's TTL, clamped to [DNSMinRefresh, DNSMaxRefresh]).
	// Written, it lies in that range.
	Refresh time.Duration
	// Timeout bounds one lookup ("timeout", default DefaultDNSTimeout).
	Timeout time.Duration
}

// Bounds and defaults of a dns discovery block.
const (
	// DNSMinRefresh is the shortest refresh a TTL is raised to (a TTL of 0
	// does not make the LB ask in a loop).
	DNSMinRefresh = time.Second
	// DNSMaxRefresh is the longest refresh a TTL is lowered to, so a
	// change is seen within it even under a day-long TTL.
	DNSMaxRefresh = 5 * time.Minute
	// DefaultDNSTimeout is a dns block's timeout when none is written.
	DefaultDNSTimeout = 2 * time.Second
)

// EtcdDiscovery is a `discovery "etcd"` block.
type EtcdDiscovery struct {
	// Endpoints are the etcd members, "host:port" or URLs ("endpoints",
	// at least one), as written. A URL is http:// or https:// with a port
	// and no path; no member is listed twice, and http:// and https://
	// are not mixed.
	Endpoints []string
	// Prefix is the key prefix of the pool's backends ("prefix", required,
	// not empty): one key per backend whose value is JSON
	// {"address":"10.0.0.5:8080","weight":2} (weight optional, default 1).
	Prefix string
	// Username and Password authenticate to etcd ("username",
	// "password_file": the password is read from that file at load, its
	// trailing newline trimmed; a Secret, so printing the block shows
	// [redacted]); both empty for none.
	Username string
	Password Secret
	// PasswordFile is the path given as password_file, as written.
	PasswordFile string
	// TLS is the connection's TLS config from the block's `tls { ca_file,
	// cert_file, key_file }`, files read at load; nil for plain TCP.
	// It has MinVersion TLS 1.2, RootCAs from ca_file (nil: the system's
	// roots) and the client certificate of cert_file and key_file, which
	// go together. An https:// endpoint without a tls block gets one with
	// the system's roots, so TLS is nil exactly when the connection is
	// plain. Shared: clone it before changing it.
	TLS *tls.Config
	// DialTimeout bounds connecting to etcd ("dial_timeout", default
	// DefaultEtcdDialTimeout).
	DialTimeout time.Duration

	tlsSum [sha256.Size]byte // digest of the tls block's files, for Equal
}

// DefaultEtcdDialTimeout is an etcd block's dial_timeout when none is
// written.
const DefaultEtcdDialTimeout = 5 * time.Second
