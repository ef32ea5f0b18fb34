package etcd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/lbtrust/lb/discovery"
	"github.com/lbtrust/lb/internal/backoff"
	"github.com/lbtrust/lb/internal/etcdclient"
)

// Defaults and fixed timings of a Source.
const (
	// DefaultDialTimeout is Config.DialTimeout when it is 0. It equals
	// config.DefaultEtcdDialTimeout.
	DefaultDialTimeout = 5 * time.Second
	// ReadTimeout bounds one read of the prefix.
	ReadTimeout = 5 * time.Second
	// ProbeInterval is how often a silent watch is asked for a progress
	// report (see the package doc).
	ProbeInterval = 2 * time.Second
	// MinBackoff is the delay before reading again after the first
	// failure in a row.
	MinBackoff = 200 * time.Millisecond
	// MaxBackoff caps that delay, however many failures in a row.
	MaxBackoff = 10 * time.Second
)

// Config is where a Source finds its backends. It mirrors
// config.EtcdDiscovery, with the password already read.
type Config struct {
	// Endpoints are the etcd members, "host:port" or URLs; at least one.
	Endpoints []string
	// Prefix is the key prefix of the pool's backends; not empty.
	Prefix string
	// Username and Password authenticate to etcd; both empty for none.
	Username string
	Password string
	// TLS, when not nil, is the connection's TLS config; nil is plain TCP.
	TLS *tls.Config
	// DialTimeout bounds connecting to etcd (and authenticating); 0 means
	// DefaultDialTimeout.
	DialTimeout time.Duration
}

// Source watches one etcd prefix. It is immutable after New; Run may be
// called more than once, even at the same time: each call has its own
// connection.
type Source struct {
	cfg Config
	log *zap.Logger
	// afterRead, when not nil, is called after each successful read with
	// its revision, before the watch starts (a test's hook).
	afterRead func(rev int64)
}

// New checks cfg and returns a source for it. It does not connect: an
// unreachable etcd is Run's to report, to its Sink. A nil log logs
// nothing.
func New(cfg Config, log *zap.Logger) (*Source, error) {
	errs := cfg.client().Check()
	if cfg.Prefix == "" {
		errs = append(errs, errors.New("empty prefix"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("etcd discovery: %w", err)
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if log == nil {
		log = zap.NewNop()
	}
	cfg.Endpoints = append([]string(nil), cfg.Endpoints...)
	return &Source{cfg: cfg, log: log.With(zap.String("source", "etcd"), zap.String("prefix", cfg.Prefix))}, nil
}

// Run reads and watches the prefix until ctx ends, handing every set it
// finds to sink and every failure to sink.Fail (see the package doc). It
// calls sink from its own goroutine only, one call at a time. It returns
// when ctx ends, after closing its connection; nothing it started is
// still running then.
func (s *Source) Run(ctx context.Context, sink discovery.Sink) {
	var (
		b      = backoff.Backoff{Min: MinBackoff, Max: MaxBackoff}
		cli    *clientv3.Client
		failed bool
	)
	defer func() {
		if cli != nil {
			cli.Close()
		}
	}()
	for ctx.Err() == nil {
		var err error
		if cli == nil {
			cli, err = s.connect()
		}
		if err == nil {
			var read bool
			read, err = s.session(ctx, cli, sink, failed)
			if read {
				b.Reset()
			}
		}
		if ctx.Err() != nil {
			return
		}
		failed = true
		d := b.Delay()
		s.log.Warn("etcd discovery failed; the last set stays in force", zap.Error(err), zap.Duration("retry_in", d))
		sink.Fail(err)
		if !backoff.Sleep(ctx, d) {
			return
		}
	}
}

// connect makes the client. It fails only on bad credentials or an etcd
// that cannot be reached to authenticate; without a username it does not
// wait for a connection.
func (s *Source) connect() (*clientv3.Client, error) {
	return etcdclient.New(s.cfg.client(), s.log)
}

// client is the connection part of cfg.
func (cfg Config) client() etcdclient.Config {
	return etcdclient.Config{
		Endpoints: cfg.Endpoints, Username: cfg.Username, Password: cfg.Password,
		TLS: cfg.TLS, DialTimeout: cfg.DialTimeout,
	}
}
