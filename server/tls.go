package server

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/healthcheck"
	"github.com/lbtrust/lb/proxy"
)

// liveTLS is a TLS listener's current settings. The net.Listener made by
// listen asks it for the tls.Config of every new handshake, so a reload
// swaps certificates (and min_version) for new connections without
// closing the listener or touching open connections. Safe for concurrent
// use.
type liveTLS struct {
	cur atomic.Pointer[tls.Config]
	cfg atomic.Pointer[config.ListenerTLS] // what cur was built from
}

// newLiveTLS returns the live settings of a listener's tls block.
func newLiveTLS(t *config.ListenerTLS) *liveTLS {
	l := &liveTLS{}
	l.set(t)
	return l
}

// set makes t the settings of the next handshakes.
func (l *liveTLS) set(t *config.ListenerTLS) {
	l.cur.Store(serverTLSConfig(t))
	l.cfg.Store(t)
}

// listen wraps ln so every accepted connection is a *tls.Conn using the
// settings current at its handshake.
func (l *liveTLS) listen(ln net.Listener) net.Listener {
	return tls.NewListener(ln, &tls.Config{
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return l.cur.Load(), nil },
	})
}

// serverTLSConfig is the tls.Config of a listener's tls block: its
// minimum version, HTTP/1.1 as the only ALPN protocol, and the
// certificate picked by SNI (certSet.pick).
func serverTLSConfig(t *config.ListenerTLS) *tls.Config {
	set := newCertSet(t)
	return &tls.Config{
		MinVersion: t.MinVersion,
		NextProtos: []string{config.ALPNProtocol},
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			return set.pick(hello.ServerName), nil
		},
	}
}

// certSet is a listener's certificates by SNI name. Immutable.
type certSet struct {
	byName map[string]*tls.Certificate // lower-case names, "*.example.com" for wildcards
	def    *tls.Certificate
}

// newCertSet indexes the certificates of t (loaded and checked by config:
// no name is in two of them).
func newCertSet(t *config.ListenerTLS) *certSet {
	s := &certSet{byName: map[string]*tls.Certificate{}}
	for _, c := range t.Certificates {
		for _, n := range c.ServerNames {
			s.byName[n] = c.KeyPair
		}
	}
	if d := t.Default(); d != nil {
		s.def = d.KeyPair
	}
	return s
}

// pick returns the certificate for an SNI server name: an exact match
// (case and a trailing dot ignored), else a wildcard for the name's
// parent ("*.example.com" for "a.example.com", one label only), else the
// default, which is also what a client without SNI gets.
func (s *certSet) pick(name string) *tls.Certificate {
	if name == "" {
		return s.def
	}
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if c := s.byName[name]; c != nil {
		return c
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		if c := s.byName["*"+name[i:]]; c != nil {
			return c
		}
	}
	return s.def
}

// sameListenerTLS reports whether two tls blocks serve the same: same
// minimum version and the same certificates (by bytes), names and
// default, in order.
func sameListenerTLS(a, b *config.ListenerTLS) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.MinVersion != b.MinVersion || len(a.Certificates) != len(b.Certificates) {
		return false
	}
	for i, ca := range a.Certificates {
		cb := b.Certificates[i]
		if ca.Name != cb.Name || ca.IsDefault != cb.IsDefault || strings.Join(ca.ServerNames, ",") != strings.Join(cb.ServerNames, ",") ||
			!sameChain(ca.KeyPair, cb.KeyPair) {
			return false
		}
	}
	return true
}

// sameChain compares two key pairs' certificate chains byte for byte (a
// new key always comes with a new certificate).
func sameChain(a, b *tls.Certificate) bool {
	if a == nil || b == nil {
		return a == b
	}
	if len(a.Certificate) != len(b.Certificate) {
		return false
	}
	for i := range a.Certificate {
		if !bytes.Equal(a.Certificate[i], b.Certificate[i]) {
			return false
		}
	}
	return true
}

// describeCerts names each certificate of t with its expiry, for the log
// line of a load or reload.
func describeCerts(t *config.ListenerTLS) []string {
	var out []string
	for _, c := range t.Certificates {
		s := fmt.Sprintf("%s (%s", c.Name, strings.Join(c.ServerNames, " "))
		if c.IsDefault {
			s += ", default"
		}
		if c.KeyPair != nil && c.KeyPair.Leaf != nil {
			s += ", expires " + c.KeyPair.Leaf.NotAfter.UTC().Format(time.DateOnly)
		}
		out = append(out, s+")")
	}
	return out
}

// backendTLS is the client TLS config of a pool's tls block (nil for
// plain HTTP), shared as a template by its backends' connection pools
// and health checks, which clone it.
func backendTLS(t *config.BackendTLS) *tls.Config {
	if t == nil {
		return nil
	}
	return t.ClientConfig("")
}

// redirectPort is the port a redirecting listener sends clients to: the
// configured one, else the bound port of the TLS listener config named
// (0 when that is not bound yet).
func (lb *LB) redirectPort(r *config.HTTPSRedirect) int {
	if r.Port != 0 {
		return r.Port
	}
	for _, l := range lb.listeners {
		if l.name == r.Listener && l.ln != nil {
			if a, ok := l.ln.Addr().(*net.TCPAddr); ok {
				return a.Port
			}
		}
	}
	return 0
}

// applyRedirectsLocked sets every listener's redirect from cfg, once the
// listeners are bound (the port of a TLS listener at ":0" is known only
// then). lb.mu is held.
func (lb *LB) applyRedirectsLocked(cfg *config.Config) {
	for _, l := range lb.listeners {
		lc := cfg.Listener(l.name)
		if lc == nil {
			continue
		}
		port := 0
		if lc.Redirect != nil {
			port = lb.redirectPort(lc.Redirect)
		}
		l.handler.SetRedirectHTTPS(port)
	}
}

// clientOptionsTLS are clientOptions(pc) with the pool's backend TLS.
func clientOptionsTLS(pc *config.Pool) proxy.ClientOptions {
	o := clientOptions(pc)
	o.TLS = backendTLS(pc.TLS)
	return o
}

// checkSpecTLS is checkSpec of the pool's health check with the pool's
// backend TLS: HTTP and gRPC probes speak TLS when traffic does.
func checkSpecTLS(pc *config.Pool) healthcheck.Spec {
	s := checkSpec(pc.HealthCheck)
	s.TLS = backendTLS(pc.TLS)
	return s
}

// sameSpec reports whether a checker running spec a (built from pool
// settings with backend tls ta) probes like one with spec b and tls tb.
// The TLS configs are compared through their tls blocks, since two
// loads of one CA file give pools that reflect.DeepEqual never equates.
func sameSpec(a, b healthcheck.Spec, ta, tb *config.BackendTLS) bool {
	a.TLS, b.TLS = nil, nil
	return reflect.DeepEqual(a, b) && ta.Equal(tb)
}

// reloadTLSLocked swaps the certificates of every TLS listener whose tls
// block changed and applies redirect changes, returning what changed.
// liveProblems has checked that no listener gained or lost its tls
// block. lb.mu is held; lb.cfg is still the running configuration.
func (lb *LB) reloadTLSLocked(cfg *config.Config) []string {
	var changes []string
	for _, l := range lb.listeners {
		lc, cur := cfg.Listener(l.name), lb.cfg.Listener(l.name)
		if lc == nil || cur == nil {
			continue
		}
		if l.tls != nil && lc.TLS != nil && !sameListenerTLS(l.tls.cfg.Load(), lc.TLS) {
			l.tls.set(lc.TLS)
			changes = append(changes, fmt.Sprintf("listener %s: tls reloaded: %s", l.name, strings.Join(describeCerts(lc.TLS), ", ")))
		}
		if before, after := redirectText(cur.Redirect), redirectText(lc.Redirect); before != after {
			changes = append(changes, fmt.Sprintf("listener %s: redirect_https %s -> %s", l.name, before, after))
		}
	}
	lb.applyRedirectsLocked(cfg)
	return changes
}

// redirectText describes a listener's redirect for a change line.
func redirectText(r *config.HTTPSRedirect) string {
	switch {
	case r == nil:
		return "off"
	case r.Port != 0:
		return fmt.Sprintf("port %d", r.Port)
	}
	return "listener " + r.Listener
}
