// Package etcdclient makes the etcd clients of discovery/etcd, register
// and fleet the same way: the official client, its own retry logging
// quietened (each caller reports what matters), errors naming the
// endpoints.
package etcdclient

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Config is where and how to connect. Zero Username and TLS mean none.
type Config struct {
	Endpoints          []string
	Username, Password string
	TLS                *tls.Config
	DialTimeout        time.Duration
}

// New makes a client of c logging to log (named "client", errors only:
// the client logs every retry at warn). It fails only on bad credentials
// or an etcd that cannot be reached to authenticate; without a username
// it does not wait for a connection.
func New(c Config, log *zap.Logger) (*clientv3.Client, error) {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   c.Endpoints,
		Username:    c.Username,
		Password:    c.Password,
		TLS:         c.TLS,
		DialTimeout: c.DialTimeout,
		Logger:      log.Named("client").WithOptions(zap.IncreaseLevel(zap.ErrorLevel)),
	})
	if err != nil {
		return nil, fmt.Errorf("connecting to etcd %v: %w", c.Endpoints, err)
	}
	return cli, nil
}

// Check lists what is wrong with c before any connection: no endpoint, an
// empty one, a username without a password (or the reverse), a negative
// dial timeout. Callers add their own checks and join them.
func (c Config) Check() []error {
	var errs []error
	if len(c.Endpoints) == 0 {
		errs = append(errs, errors.New("no endpoints"))
	}
	for _, e := range c.Endpoints {
		if e == "" {
			errs = append(errs, errors.New("an empty endpoint"))
		}
	}
	if (c.Username == "") != (c.Password == "") {
		errs = append(errs, errors.New("a username without a password, or a password without a username"))
	}
	if c.DialTimeout < 0 {
		errs = append(errs, fmt.Errorf("dial timeout %s: must not be negative", c.DialTimeout))
	}
	return errs
}
