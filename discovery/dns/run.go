package dns

import (
	"context"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/lbtrust/lb/discovery"
)

// Run looks the name up at once and again after each refresh (see the
// package doc for the rules) until ctx ends, and reports to sink: Update
// with the complete normalized set after every successful lookup (an
// empty one for an authoritative empty answer), Fail after every failed
// one. It calls sink from its own goroutine only, one call at a time. It
// returns when ctx ends, a lookup in flight cut at once, leaving nothing
// running; nothing is reported after ctx ended.
func (s *Source) Run(ctx context.Context, sink discovery.Sink) {
	var (
		prev      []discovery.Target // the last set delivered
		delivered bool               // whether prev is one
		interval  time.Duration      // the last success's refresh
		fails     int                // failed lookups in a row
	)
	for {
		res, err := s.lookup(ctx)
		if ctx.Err() != nil {
			return
		}
		var wait time.Duration
		if err != nil {
			wait = retryDelay(fails, retryCeiling(s.refresh, interval))
			fails++
			s.log.Warn("dns discovery lookup failed; keeping the last set",
				zap.Error(err), zap.Int("failures_in_a_row", fails), zap.Duration("retry_in", wait))
			sink.Fail(err)
		} else {
			interval = refreshAfter(s.refresh, res.ttl)
			wait = interval
			s.logSuccess(prev, delivered, res.targets, fails, interval)
			prev, delivered, fails = slices.Clone(res.targets), true, 0
			sink.Update(res.targets)
		}
		if !sleep(ctx, wait) {
			return
		}
	}
}

// logSuccess logs a successful lookup that changed the set (or gave the
// first one) or ended a run of failures.
func (s *Source) logSuccess(prev []discovery.Target, delivered bool, next []discovery.Target, fails int, refresh time.Duration) {
	added, removed, reweighted := changes(prev, next)
	changed := !delivered || added+removed+reweighted > 0
	if !changed && fails == 0 {
		return
	}
	fields := []zap.Field{
		zap.Int("backends", len(next)), zap.Int("added", added), zap.Int("removed", removed),
		zap.Int("reweighted", reweighted), zap.Duration("refresh", refresh),
	}
	if fails > 0 {
		fields = append(fields, zap.Int("failures_before", fails))
	}
	msg := "dns discovery set changed"
	if !changed {
		msg = "dns discovery lookup recovered; set unchanged"
	}
	s.log.Info(msg, fields...)
}

// sleep waits d or until ctx ends, and says whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
