package fleet

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/lbtrust/lb/internal/etcdclient"
)

// errLeaseLost is the error of a session whose lease is gone: revoked,
// expired, or not renewed within its TTL because etcd was unreachable.
var errLeaseLost = errors.New("the member key's lease was lost")

// probeInterval is how often a silent watch is asked for a progress
// report: a quarter of the TTL, so a dead etcd is noticed within about
// one TTL (a quiet tick, a probe, an unanswered tick, plus the probe's own
// bound), as a lost lease is (the client closes the keep-alive channel
// when no renewal came within the TTL). An idle member asks for progress
// every half TTL: one small request.
func (m *Membership) probeInterval() time.Duration { return m.cfg.TTL / 4 }

// session registers the member key under a new lease, reads the member
// set and watches it until something fails or ctx ends. ok reports
// whether the set was read; err is why the session ended (nil when ctx
// ended). When ctx ends the lease is revoked; on a failure it is left to
// expire (the next session's put moves the key to its own lease, so the
// others see no gap).
func (m *Membership) session(ctx context.Context, cli *clientv3.Client, recovered bool) (ok bool, err error) {
	rctx, cancel := context.WithTimeout(ctx, RequestTimeout)
	lease, err := cli.Grant(rctx, int64(m.cfg.TTL/time.Second))
	cancel()
	if err != nil {
		return false, m.ended(ctx, fmt.Errorf("granting a lease: %w", err))
	}
	defer func() {
		if ctx.Err() == nil {
			return
		}
		// Stopping: leave the fleet now rather than after the TTL.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RevokeTimeout)
		defer cancel()
		if _, err := cli.Revoke(rctx, lease.ID); err != nil {
			m.log.Warn("fleet membership could not revoke its lease; the others see this instance leave when it expires", zap.Error(err), zap.Duration("ttl", m.cfg.TTL))
		}
	}()
	kctx, kcancel := context.WithCancel(ctx)
	defer kcancel()
	ka, err := cli.KeepAlive(kctx, lease.ID)
	if err != nil {
		return false, m.ended(ctx, fmt.Errorf("keeping the lease alive: %w", err))
	}
	rctx, cancel = context.WithTimeout(ctx, RequestTimeout)
	_, err = cli.Put(rctx, m.key, m.cfg.Name, clientv3.WithLease(lease.ID))
	cancel()
	if err != nil {
		return false, m.ended(ctx, fmt.Errorf("writing member key %q: %w", m.key, err))
	}
	rctx, cancel = context.WithTimeout(ctx, RequestTimeout)
	resp, err := cli.Get(rctx, m.cfg.Prefix, clientv3.WithPrefix())
	cancel()
	if err != nil {
		return false, m.ended(ctx, fmt.Errorf("reading %q: %w", m.cfg.Prefix, err))
	}
	set := map[string]bool{}
	next := newView()
	for _, kv := range resp.Kvs {
		m.apply(set, string(kv.Key), true)
		m.record(&next, string(kv.Key), kv.Value, true)
	}
	rev := resp.Header.Revision
	m.mu.Lock()
	verdicts, drains := m.others.differences(next)
	m.others = next
	m.republishLocked() // the new lease needs every own verdict
	m.mu.Unlock()
	m.tell(verdicts, drains)
	m.set(m.view(set), true)
	if recovered {
		m.log.Info("fleet membership is back in etcd", zap.Int64("revision", rev), zap.Strings("members", m.Members()))
	} else {
		m.log.Info("fleet membership registered", zap.Int64("revision", rev), zap.Strings("members", m.Members()))
	}
	if m.afterRead != nil {
		m.afterRead(rev)
	}
	wctx, wcancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	wdone := make(chan struct{})
	go func() {
		defer close(wdone)
		m.writer(wctx, cli, lease.ID, errc)
	}()
	m.wakeWriter()
	err = m.watch(ctx, cli, ka, errc, set, rev)
	wcancel()
	<-wdone
	return true, m.ended(ctx, err)
}

// tell hands the listener the targets whose verdicts and drains changed.
func (m *Membership) tell(verdicts, drains []Target) {
	l := m.cfg.Listener
	if l == nil {
		return
	}
	for _, t := range verdicts {
		l.VerdictsChanged(t)
	}
	for _, t := range drains {
		l.DrainChanged(t)
	}
}

// ended is err, or nil when ctx ended (a stop is not a failure).
func (m *Membership) ended(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// watch follows the member directory from rev+1 and the lease's
// keep-alive answers. It returns when ctx ends, else why the watch or the
// lease was lost.
func (m *Membership) watch(ctx context.Context, cli *clientv3.Client, ka <-chan *clientv3.LeaseKeepAliveResponse, errc <-chan error, set map[string]bool, rev int64) error {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	dir := m.cfg.Prefix
	wch, err := etcdclient.Watch(wctx, cancel, cli, dir, rev, RequestTimeout)
	if err != nil {
		return err
	}
	var verdicts, drains []Target
	probe := m.probeInterval()
	tick := time.NewTicker(probe)
	defer tick.Stop()
	live := etcdclient.Liveness{Every: probe}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errc:
			return err
		case _, ok := <-ka:
			if !ok {
				return errLeaseLost
			}
		case wr, ok := <-wch:
			if ended, err := etcdclient.WatchEnded(ctx, wr, ok, dir, rev); ended {
				return err
			}
			live.Heard()
			if len(wr.Events) == 0 {
				continue // a progress report
			}
			verdicts, drains = verdicts[:0], drains[:0]
			m.mu.Lock()
			for _, ev := range wr.Events {
				put := ev.Type == clientv3.EventTypePut
				m.apply(set, string(ev.Kv.Key), put)
				if t, drain, changed := m.record(&m.others, string(ev.Kv.Key), ev.Kv.Value, put); changed {
					if drain {
						drains = append(drains, t)
					} else {
						verdicts = append(verdicts, t)
					}
				}
			}
			m.mu.Unlock()
			m.events.Add(uint64(len(wr.Events)))
			rev = wr.Header.Revision
			m.tell(verdicts, drains)
			m.set(m.view(set), true)
		case <-tick.C:
			if err := live.Tick(wctx, cli, dir); err != nil {
				return err
			}
		}
	}
}

// apply records that key is present (put) or gone. A key whose name
// after the directory is empty or holds a "/" is not a member and is
// ignored.
func (m *Membership) apply(set map[string]bool, key string, put bool) {
	k := parseKey(m.cfg.Prefix, key)
	if k.kind != keyMember {
		return
	}
	if put {
		set[k.member] = true
	} else {
		delete(set, k.member)
	}
}

// view is set as a sorted slice, with this instance's own name always.
func (m *Membership) view(set map[string]bool) []string {
	names := slices.AppendSeq(make([]string, 0, len(set)+1), maps.Keys(set))
	names = append(names, m.cfg.Name)
	return sortedUnique(names)
}
