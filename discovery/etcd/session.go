package etcd

import (
	"context"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/lbtrust/lb/discovery"
	"github.com/lbtrust/lb/internal/etcdclient"
)

// session reads the prefix, hands the set to sink, and watches it until
// the watch fails or ctx ends. read reports whether the read succeeded;
// err is why the session ended (nil when ctx ended). recovered says the
// session follows a failure, for the log.
func (s *Source) session(ctx context.Context, cli *clientv3.Client, sink discovery.Sink, recovered bool) (read bool, err error) {
	rctx, cancel := context.WithTimeout(ctx, ReadTimeout)
	resp, err := cli.Get(rctx, s.cfg.Prefix, clientv3.WithPrefix())
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return false, nil
		}
		return false, fmt.Errorf("reading prefix %q: %w", s.cfg.Prefix, err)
	}
	set := newKeySet(s.log)
	for _, kv := range resp.Kvs {
		set.put(string(kv.Key), kv.Value)
	}
	rev := resp.Header.Revision
	targets := set.targets()
	if recovered {
		s.log.Info("etcd discovery read the prefix again", zap.Int64("revision", rev), zap.Int("keys", len(resp.Kvs)), zap.Int("backends", len(targets)))
	} else {
		s.log.Info("etcd discovery read the prefix", zap.Int64("revision", rev), zap.Int("keys", len(resp.Kvs)), zap.Int("backends", len(targets)))
	}
	sink.Update(targets)
	if s.afterRead != nil {
		s.afterRead(rev)
	}
	return true, s.watch(ctx, cli, sink, set, rev)
}

// watch follows the prefix from rev+1, applying each response to set and
// handing the new set to sink. It returns nil when ctx ends, else why
// the watch was lost.
func (s *Source) watch(ctx context.Context, cli *clientv3.Client, sink discovery.Sink, set *keySet, rev int64) error {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch, err := etcdclient.Watch(wctx, cancel, cli, s.cfg.Prefix, rev, ReadTimeout)
	if err != nil {
		return err
	}
	tick := time.NewTicker(ProbeInterval)
	defer tick.Stop()
	live := etcdclient.Liveness{Every: ProbeInterval}
	for {
		select {
		case <-ctx.Done():
			return nil
		case wr, ok := <-wch:
			if ended, err := etcdclient.WatchEnded(ctx, wr, ok, s.cfg.Prefix, rev); ended {
				return err
			}
			live.Heard()
			if len(wr.Events) == 0 {
				continue // a progress report
			}
			for _, ev := range wr.Events {
				switch ev.Type {
				case clientv3.EventTypePut:
					set.put(string(ev.Kv.Key), ev.Kv.Value)
				case clientv3.EventTypeDelete:
					set.delete(string(ev.Kv.Key))
				}
			}
			rev = wr.Header.Revision
			sink.Update(set.targets())
		case <-tick.C:
			if err := live.Tick(wctx, cli, s.cfg.Prefix); err != nil {
				return err
			}
		}
	}
}
