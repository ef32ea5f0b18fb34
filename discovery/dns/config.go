package dns

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
	"go.uber.org/zap"

	"github.com/lbtrust/lb/config"
)

// Config is what a DNS source looks up and how. It mirrors
// config.DNSDiscovery, whose docs give each field's meaning; New applies
// the same defaults.
type Config struct {
	// Name is the name looked up; a trailing dot is optional.
	Name string
	// Type is config.DNSRecordSRV or config.DNSRecordA; empty means srv
	// when Name starts with "_", else a.
	Type string
	// Port is the backends' port for Type a (1..65535); 0 for srv.
	Port int
	// Resolver is the DNS server asked, "host:port"; empty means the first
	// nameserver of /etc/resolv.conf on its port (53), or 127.0.0.1:53 when
	// there is none.
	Resolver string
	// Refresh is the time between lookups; 0 follows the answer's TTL,
	// clamped to [config.DNSMinRefresh, config.DNSMaxRefresh].
	Refresh time.Duration
	// Timeout bounds one lookup; 0 means config.DefaultDNSTimeout.
	Timeout time.Duration
}

// ConfigFrom is the Config of a pool's `discovery "dns"` block.
func ConfigFrom(d *config.DNSDiscovery) Config {
	return Config{
		Name:     d.Name,
		Type:     d.Type,
		Port:     d.Port,
		Resolver: d.Resolver,
		Refresh:  d.Refresh,
		Timeout:  d.Timeout,
	}
}

// resolvConf is where the default resolver is read from.
const resolvConf = "/etc/resolv.conf"

// fallbackResolver is asked when resolv.conf names no nameserver.
const fallbackResolver = "127.0.0.1:53"

// Source looks up one name and reports the backends it gives. It is
// immutable once made: Run may be called from any goroutine, and several
// Runs do not share state.
type Source struct {
	name     string // fully qualified
	typ      string // config.DNSRecordSRV or config.DNSRecordA
	port     int
	resolver string // host:port
	refresh  time.Duration
	timeout  time.Duration
	log      *zap.Logger
}

// New checks cfg, applies its defaults and returns the source. It returns
// an error naming the first bad field. A nil log logs nothing. Reading
// /etc/resolv.conf (when Resolver is empty) is its only I/O.
func New(cfg Config, log *zap.Logger) (*Source, error) {
	if log == nil {
		log = zap.NewNop()
	}
	s := &Source{port: cfg.Port, refresh: cfg.Refresh, timeout: cfg.Timeout}
	if cfg.Name == "" {
		return nil, errors.New("dns discovery: name is empty")
	}
	if _, ok := mdns.IsDomainName(cfg.Name); !ok {
		return nil, fmt.Errorf("dns discovery: name %q is not a domain name", cfg.Name)
	}
	s.name = mdns.Fqdn(cfg.Name)
	s.typ = cfg.Type
	if s.typ == "" {
		s.typ = config.DNSRecordA
		if strings.HasPrefix(cfg.Name, "_") {
			s.typ = config.DNSRecordSRV
		}
	}
	switch s.typ {
	case config.DNSRecordSRV:
		if cfg.Port != 0 {
			return nil, fmt.Errorf("dns discovery: port %d given for type srv, whose records carry their port", cfg.Port)
		}
	case config.DNSRecordA:
		if cfg.Port < 1 || cfg.Port > 65535 {
			return nil, fmt.Errorf("dns discovery: port %d out of 1..65535 for type a", cfg.Port)
		}
	default:
		return nil, fmt.Errorf("dns discovery: type %q is neither %q nor %q", cfg.Type, config.DNSRecordSRV, config.DNSRecordA)
	}
	if cfg.Refresh < 0 {
		return nil, fmt.Errorf("dns discovery: refresh %v is negative", cfg.Refresh)
	}
	switch {
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("dns discovery: timeout %v is negative", cfg.Timeout)
	case cfg.Timeout == 0:
		s.timeout = config.DefaultDNSTimeout
	}
	s.resolver = cfg.Resolver
	if s.resolver == "" {
		s.resolver = defaultResolver(resolvConf)
	}
	host, port, err := net.SplitHostPort(s.resolver)
	if err != nil || host == "" {
		return nil, fmt.Errorf("dns discovery: resolver %q is not host:port", s.resolver)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return nil, fmt.Errorf("dns discovery: resolver %q has no port in 1..65535", s.resolver)
	}
	s.log = log.With(zap.String("source", config.DiscoveryDNS), zap.String("name", s.name),
		zap.String("type", s.typ), zap.String("resolver", s.resolver))
	return s, nil
}

// defaultResolver is the first nameserver of the resolv.conf file at path,
// on that file's port (53), or fallbackResolver when it names none or
// cannot be read.
func defaultResolver(path string) string {
	cc, err := mdns.ClientConfigFromFile(path)
	if err != nil || len(cc.Servers) == 0 {
		return fallbackResolver
	}
	return net.JoinHostPort(cc.Servers[0], cc.Port)
}
