package etcd

import (
	"context"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/lbtrust/lb/discovery"
)

// errSilent is the error of a watch stream that answered neither events
// nor a progress request for a whole ProbeInterval.
var errSilent = errors.New("etcd did not answer a progress request on the watch")

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
	wch := cli.Watch(wctx, s.cfg.Prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	tick := time.NewTicker(ProbeInterval)
	defer tick.Stop()
	heard, probing := true, false
	for {
		select {
		case <-ctx.Done():
			return nil
		case wr, ok := <-wch:
			switch {
			case ctx.Err() != nil:
				return nil
			case !ok:
				return fmt.Errorf("watch of prefix %q closed", s.cfg.Prefix)
			case wr.Err() != nil:
				return fmt.Errorf("watch of prefix %q after revision %d: %w", s.cfg.Prefix, rev, wr.Err())
			case wr.Canceled:
				return fmt.Errorf("watch of prefix %q canceled: %s", s.cfg.Prefix, wr.CancelReason)
			}
			heard = true
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
			switch {
			case heard:
				heard, probing = false, false
			case probing:
				return fmt.Errorf("watch of prefix %q: %w within %s", s.cfg.Prefix, errSilent, ProbeInterval)
			default:
				// While the client reconnects, nobody reads the request:
				// bound the wait, and count the probe as sent either way.
				pctx, pcancel := context.WithTimeout(wctx, ProbeInterval)
				cli.RequestProgress(pctx)
				pcancel()
				probing = true
			}
		}
	}
}
