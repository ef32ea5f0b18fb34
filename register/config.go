package register

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/lbtrust/lb/discovery/etcd"
	"github.com/lbtrust/lb/discovery/etcdvalue"
)

// Defaults and bounds of a Config.
const (
	// DefaultTTL is the lease's time to live when Config.TTL is 0: how
	// long a killed sidecar's key outlives it.
	DefaultTTL = 10 * time.Second
	// MinTTL is the shortest TTL accepted: KeepAlive renews at TTL/3, and
	// a shorter lease expires on the first hiccup.
	MinTTL = 2 * time.Second
	// DefaultWeight is the backend's weight when Config.Weight is 0.
	DefaultWeight = etcdvalue.DefaultWeight
	// DefaultDialTimeout is Config.DialTimeout when it is 0; it also
	// bounds each etcd request.
	DefaultDialTimeout = etcd.DefaultDialTimeout
	// MinCheckInterval is the shortest check interval accepted.
	MinCheckInterval = 100 * time.Millisecond
	// DefaultUnanswered is Config.Unanswered when it is 0.
	DefaultUnanswered = 3
	// MaxCheckTimeout bounds one readiness check; a check also gets at
	// most half the check interval.
	MaxCheckTimeout = 2 * time.Second
	// MinBackoff and MaxBackoff space the attempts to reach etcd.
	MinBackoff = 200 * time.Millisecond
	MaxBackoff = 10 * time.Second
)

// Config is one backend's registration.
type Config struct {
	// Endpoints are the etcd members, "host:port" or URLs; at least one.
	Endpoints []string
	// Prefix is the pool's key prefix, as in its `discovery "etcd"`
	// block; not empty.
	Prefix string
	// Address is the backend, "IP:port"; it is canonicalized as the
	// discovery source does (etcdvalue.ParseAddress).
	Address string
	// Weight is the backend's weight, at least 1; 0 means DefaultWeight.
	Weight int
	// TTL is the lease's time to live, whole seconds, at least MinTTL; 0
	// means DefaultTTL.
	TTL time.Duration
	// Check is the backend's readiness URL ("http://127.0.0.1:8080/readyz",
	// or https), "" for none. A GET must answer 2xx.
	Check string
	// CheckInterval is the time between checks, at least
	// MinCheckInterval; 0 means TTL/3.
	CheckInterval time.Duration
	// Unanswered is how many checks in a row may get no answer (a
	// timeout, a reset connection) before the key is deleted, at least 1;
	// 0 means DefaultUnanswered. A check answered with a failing status,
	// or refused, deletes it at once.
	Unanswered int
	// DialTimeout bounds connecting to etcd and each request; 0 means
	// DefaultDialTimeout.
	DialTimeout time.Duration
}

// Key returns the backend's key: Prefix + Address, with the address in
// its canonical form when it is valid.
func (c Config) Key() string {
	if a, err := etcdvalue.ParseAddress(c.Address); err == nil {
		return c.Prefix + a
	}
	return c.Prefix + c.Address
}

// withDefaults checks c and returns it with its defaults applied and its
// address canonical, or every problem found in one error.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	if len(c.Endpoints) == 0 {
		errs = append(errs, errors.New("no etcd endpoints"))
	}
	for _, e := range c.Endpoints {
		if strings.TrimSpace(e) == "" {
			errs = append(errs, errors.New("an empty etcd endpoint"))
		}
	}
	if c.Prefix == "" {
		errs = append(errs, errors.New("empty prefix"))
	}
	if c.Address == "" {
		errs = append(errs, errors.New("no address"))
	} else if a, err := etcdvalue.ParseAddress(c.Address); err != nil {
		errs = append(errs, err)
	} else {
		c.Address = a
	}
	switch {
	case c.Weight == 0:
		c.Weight = DefaultWeight
	case c.Weight < 1:
		errs = append(errs, fmt.Errorf("weight %d: must be at least 1", c.Weight))
	}
	switch {
	case c.TTL == 0:
		c.TTL = DefaultTTL
	case c.TTL < MinTTL:
		errs = append(errs, fmt.Errorf("ttl %s: must be at least %s", c.TTL, MinTTL))
	case c.TTL%time.Second != 0:
		errs = append(errs, fmt.Errorf("ttl %s: etcd leases last whole seconds", c.TTL))
	}
	switch {
	case c.CheckInterval == 0:
		c.CheckInterval = c.TTL / 3
	case c.CheckInterval < MinCheckInterval:
		errs = append(errs, fmt.Errorf("check interval %s: must be at least %s", c.CheckInterval, MinCheckInterval))
	}
	switch {
	case c.Unanswered == 0:
		c.Unanswered = DefaultUnanswered
	case c.Unanswered < 1:
		errs = append(errs, fmt.Errorf("unanswered checks %d: must be at least 1", c.Unanswered))
	}
	if c.Check != "" {
		if _, _, err := checkTarget(c.Check); err != nil {
			errs = append(errs, err)
		}
	}
	switch {
	case c.DialTimeout == 0:
		c.DialTimeout = DefaultDialTimeout
	case c.DialTimeout < 0:
		errs = append(errs, fmt.Errorf("dial timeout %s: must be positive", c.DialTimeout))
	}
	c.Endpoints = append([]string(nil), c.Endpoints...)
	return c, errors.Join(errs...)
}

// checkTarget splits a readiness URL into the address to dial
// ("host:port", the scheme's port when none is written), the request
// target (path and query) and, for https, a TLS config.
func checkTarget(raw string) (address, target string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("check %q: want an http:// or https:// URL: %v", raw, err)
	}
	port := ""
	switch u.Scheme {
	case "http":
		port = "80"
	case "https":
		port = "443"
	default:
		return "", "", fmt.Errorf("check %q: want an http:// or https:// URL", raw)
	}
	if u.Hostname() == "" {
		return "", "", fmt.Errorf("check %q: no host", raw)
	}
	if u.User != nil || u.Fragment != "" {
		return "", "", fmt.Errorf("check %q: no user or fragment, please", raw)
	}
	if p := u.Port(); p != "" {
		port = p
	}
	target = u.EscapedPath()
	if target == "" {
		target = "/"
	}
	if u.RawQuery != "" {
		target += "?" + u.RawQuery
	}
	return net.JoinHostPort(u.Hostname(), port), target, nil
}

// checkTLS is the TLS config of an https check: the system's roots, the
// URL's host name.
func checkTLS(raw string) *tls.Config {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" {
		return nil
	}
	return &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
}
