package server

import (
	"context"
	"fmt"

	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/discovery"
	"github.com/lbtrust/lb/discovery/dns"
	"github.com/lbtrust/lb/discovery/etcd"
	"go.uber.org/zap"
)

// sourceRunner is a discovery source ready to run: it reads its registry
// until ctx ends, telling sink what it finds.
type sourceRunner interface {
	Run(ctx context.Context, sink discovery.Sink)
}

// newSource makes the source of a discovery block.
func newSource(d *config.Discovery, log *zap.Logger) (sourceRunner, error) {
	switch {
	case d.DNS != nil:
		return dns.New(dns.ConfigFrom(d.DNS), log)
	case d.Etcd != nil:
		e := d.Etcd
		return etcd.New(etcd.Config{
			Endpoints: e.Endpoints, Prefix: e.Prefix,
			Username: e.Username, Password: string(e.Password),
			TLS: e.TLS, DialTimeout: e.DialTimeout,
		}, log)
	}
	return nil, fmt.Errorf("discovery %q: not supported by this build", d.Type)
}
