package config

import (
	"crypto/tls"
	"net"
)

// ClientConfig is the crypto/tls client configuration the LB uses for a
// backend of the pool at address (host:port): the block's CA pool (nil:
// the system's roots), verification setting and TLS 1.2 as the minimum.
// ServerName is the block's server_name, else the host of address; with
// an empty address it stays as written, which makes the result a
// template for the pool's backends. A fresh value every call; the caller
// may modify it. t must not be nil.
func (t *BackendTLS) ClientConfig(address string) *tls.Config {
	c := &tls.Config{
		RootCAs:            t.RootCAs,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify,
		MinVersion:         tls.VersionTLS12,
	}
	if c.ServerName == "" && address != "" {
		if host, _, err := net.SplitHostPort(address); err == nil {
			c.ServerName = host
		}
	}
	return c
}
