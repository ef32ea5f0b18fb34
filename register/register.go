package register

import (
	"context"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/lbtrust/lb/discovery/etcdvalue"
	"github.com/lbtrust/lb/healthcheck"
	"github.com/lbtrust/lb/internal/backoff"
	"github.com/lbtrust/lb/internal/etcdclient"
)

// Registrar keeps one backend registered (see the package doc). It is
// immutable after New; Run it once at a time.
type Registrar struct {
	cfg   Config
	key   string
	value string
	check *checker // nil without a check
	log   *zap.Logger
}

// New checks cfg, applies its defaults and returns a registrar. Every
// problem with cfg is reported in one error: a bad flag, not a reason to
// retry. It starts nothing. A nil log logs nothing.
func New(cfg Config, log *zap.Logger) (*Registrar, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	r := &Registrar{
		cfg:   cfg,
		key:   cfg.Prefix + cfg.Address,
		value: string(etcdvalue.Encode(cfg.Address, cfg.Weight)),
		log:   log.With(zap.String("key", cfg.Prefix+cfg.Address)),
	}
	if cfg.Check != "" {
		if r.check, err = newChecker(cfg); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Config returns the registration with every default applied.
func (r *Registrar) Config() Config { return r.cfg }

// Run keeps the backend registered until ctx ends, then revokes its
// lease (deleting the key) and returns. Failures are logged and retried;
// Run returns only when ctx ends, with nothing it started still running.
func (r *Registrar) Run(ctx context.Context) {
	b := backoff.Backoff{Min: MinBackoff, Max: MaxBackoff}
	var cli *clientv3.Client
	defer func() {
		if cli != nil {
			cli.Close()
		}
	}()
	for cli == nil {
		var err error
		cli, err = etcdclient.New(etcdclient.Config{Endpoints: r.cfg.Endpoints, DialTimeout: r.cfg.DialTimeout}, r.log)
		if err != nil {
			d := b.Delay()
			r.log.Warn("cannot make an etcd client; retrying", zap.Strings("endpoints", r.cfg.Endpoints), zap.Error(err), zap.Duration("retry_in", d))
			if !backoff.Sleep(ctx, d) {
				return
			}
		}
	}
	b.Reset()
	ready := true // the last check passed (or there is none)
	for ctx.Err() == nil {
		if !r.waitReady(ctx, &ready) {
			return
		}
		lease, err := r.register(ctx, cli)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			d := b.Delay()
			r.log.Warn("cannot register in etcd; retrying", zap.Strings("endpoints", r.cfg.Endpoints), zap.Error(err), zap.Duration("retry_in", d))
			backoff.Sleep(ctx, d)
			continue
		}
		b.Reset()
		r.hold(ctx, cli, lease, &ready)
	}
}

// waitReady returns at once without a check or when the check passes,
// else probes every CheckInterval until it passes. It returns false if
// ctx ended first.
func (r *Registrar) waitReady(ctx context.Context, ready *bool) bool {
	if r.check == nil {
		return true
	}
	tick := time.NewTicker(r.cfg.CheckInterval)
	defer tick.Stop()
	for {
		if r.probe(ctx, ready) {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
}

// probe runs the check once, logs a change of its verdict, and returns
// whether it passed. A probe cut short by ctx's end does not count.
func (r *Registrar) probe(ctx context.Context, ready *bool) bool {
	ok, _ := r.probeOutcome(ctx, ready)
	return ok
}

// probeOutcome is probe, also returning the outcome of a failed check.
func (r *Registrar) probeOutcome(ctx context.Context, ready *bool) (bool, healthcheck.Outcome) {
	res := r.check.probe(ctx)
	if ctx.Err() != nil {
		return *ready, ""
	}
	ok := res.Passed()
	if ok != *ready {
		if ok {
			r.log.Info("readiness check passes", zap.String("check", r.cfg.Check))
		} else {
			r.log.Warn("readiness check fails", zap.String("check", r.cfg.Check), zap.String("outcome", string(res.Outcome)), zap.String("detail", res.Detail()))
		}
	}
	*ready = ok
	return ok, res.Outcome
}

// unanswered reports whether a failed check's outcome is no answer at
// all, which deregisters only after Config.Unanswered in a row.
func unanswered(o healthcheck.Outcome) bool {
	return o == healthcheck.OutcomeTimeout || o == healthcheck.OutcomeConnectionReset
}

// register grants a lease and puts the key under it.
func (r *Registrar) register(ctx context.Context, cli *clientv3.Client) (clientv3.LeaseID, error) {
	cctx, cancel := context.WithTimeout(ctx, r.cfg.DialTimeout)
	defer cancel()
	g, err := cli.Grant(cctx, int64(r.cfg.TTL/time.Second))
	if err != nil {
		return 0, fmt.Errorf("granting a lease: %w", err)
	}
	if _, err := cli.Put(cctx, r.key, r.value, clientv3.WithLease(g.ID)); err != nil {
		// The lease holds nothing; it expires on its own if this fails.
		r.revoke(cli, g.ID)
		return 0, fmt.Errorf("putting the key: %w", err)
	}
	r.log.Info("registered", zap.String("value", r.value), zap.String("lease", fmt.Sprintf("%x", g.ID)), zap.Int64("ttl_seconds", g.TTL))
	return g.ID, nil
}

// hold keeps lease alive until ctx ends (then it revokes the lease), the
// check fails (it revokes the lease), or the lease is lost (it expired:
// etcd was unreachable for a whole TTL). In every case the key is gone,
// or will be within the TTL, when hold returns.
func (r *Registrar) hold(ctx context.Context, cli *clientv3.Client, lease clientv3.LeaseID, ready *bool) {
	kctx, stop := context.WithCancel(ctx)
	defer stop()
	ka, err := cli.KeepAlive(kctx, lease)
	if err != nil {
		r.log.Warn("cannot keep the lease alive; registering again", zap.Error(err))
		r.revoke(cli, lease)
		return
	}
	var tick <-chan time.Time
	silent := 0 // unanswered checks in a row
	if r.check != nil {
		t := time.NewTicker(r.cfg.CheckInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			stop()
			if r.revoke(cli, lease) == nil {
				r.log.Info("deregistered on shutdown: lease revoked, key deleted")
			}
			return
		case _, ok := <-ka:
			if ok {
				continue
			}
			if ctx.Err() != nil {
				continue // the shutdown case runs next
			}
			r.log.Warn("lost the lease (etcd unreachable for its whole TTL, or the lease was revoked); registering again")
			return
		case <-tick:
			ok, outcome := r.probeOutcome(ctx, ready)
			if ok || ctx.Err() != nil {
				silent = 0
				continue
			}
			if unanswered(outcome) {
				if silent++; silent < r.cfg.Unanswered {
					r.log.Warn("readiness check unanswered; still registered", zap.String("outcome", string(outcome)),
						zap.Int("in_a_row", silent), zap.Int("deregistered_at", r.cfg.Unanswered))
					continue
				}
			}
			stop()
			if r.revoke(cli, lease) == nil {
				r.log.Info("deregistered while the check fails: lease revoked, key deleted")
			}
			return
		}
	}
}

// revoke revokes lease, deleting its key, within DialTimeout. On failure
// (etcd unreachable) it logs: nobody renews the lease any more, so etcd
// deletes the key within the TTL.
func (r *Registrar) revoke(cli *clientv3.Client, lease clientv3.LeaseID) error {
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.DialTimeout)
	defer cancel()
	_, err := cli.Revoke(ctx, lease)
	if err != nil && !errors.Is(err, context.Canceled) {
		r.log.Warn("cannot revoke the lease; etcd deletes the key when it expires", zap.String("lease", fmt.Sprintf("%x", lease)), zap.Duration("ttl", r.cfg.TTL), zap.Error(err))
	}
	return err
}
