package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/lbtrust/lb/config"
)

// handshakeBudget bounds the in-memory trial handshake of demoTLS.
const handshakeBudget = 10 * time.Second

// demoTLS is the server TLS configuration of the demo backend at address
// in pool p: nil for a pool without a tls block (plain HTTP). For a TLS
// pool it serves the first listener certificate of cfg (listeners and
// their certificates in file order) that the LB's client for this backend
// accepts, checked by a real handshake in memory with the client
// configuration the LB builds (so ca_file, server_name or the backend's
// host, and insecure_skip_verify count exactly as they will). When none
// is accepted it returns an error saying why; the backend then serves
// plain HTTP.
func demoTLS(cfg *config.Config, p *config.Pool, address string) (*tls.Config, error) {
	if p.TLS == nil {
		return nil, nil
	}
	client := p.TLS.ClientConfig(address)
	var refused []string
	for _, l := range cfg.Listeners {
		if l.TLS == nil {
			continue
		}
		for _, c := range l.TLS.Certificates {
			if c.KeyPair == nil {
				continue
			}
			server := &tls.Config{
				Certificates: []tls.Certificate{*c.KeyPair},
				NextProtos:   []string{config.ALPNProtocol},
				MinVersion:   tls.VersionTLS12,
			}
			err := trialHandshake(client, server)
			if err == nil {
				return server, nil
			}
			refused = append(refused, fmt.Sprintf("listener %s certificate %q: %v", l.Name, c.Name, err))
		}
	}
	if len(refused) == 0 {
		return nil, errors.New("the configuration has no listener tls certificate to serve")
	}
	return nil, fmt.Errorf("no listener certificate is accepted by the pool's tls settings (%s)", strings.Join(refused, "; "))
}

// trialHandshake runs a TLS handshake between client and server over a
// loopback TCP connection and returns the client's error, if any. (Not
// net.Pipe: unbuffered, a client that refuses the certificate blocks
// sending its alert while the server still writes its flight.)
func trialHandshake(client, server *tls.Config) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), handshakeBudget)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s, err := ln.Accept()
		if err != nil {
			return
		}
		tls.Server(s, server).HandshakeContext(ctx)
		s.Close()
	}()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		ln.Close()
		<-done
		return err
	}
	err = tls.Client(c, client.Clone()).HandshakeContext(ctx)
	c.Close()
	<-done
	return err
}
