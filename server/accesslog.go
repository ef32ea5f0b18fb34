package server

import (
	"context"
	"fmt"
	"time"

	"github.com/lbtrust/lb/accesslog"
	"github.com/lbtrust/lb/admin"
	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/metrics"
	"go.uber.org/zap"
)

// accessLogCloseTimeout bounds how long closing an access log waits for
// its writer to write what is queued (a stuck disk is left behind).
const accessLogCloseTimeout = 5 * time.Second

// openAccessLog opens the access log of listener name as c says; nil
// when c is nil.
func (lb *LB) openAccessLog(name string, c *config.AccessLog) (*accesslog.Logger, error) {
	if c == nil {
		return nil, nil
	}
	format := accesslog.FormatJSON
	if c.Format == config.AccessLogCombined {
		format = accesslog.FormatCombined
	}
	l, err := accesslog.New(accesslog.Options{
		Output:  c.Output,
		Format:  format,
		Skip2xx: 1 - c.Sample2xx,
		Buffer:  c.Buffer,
		Log:     lb.log.With(zap.String("listener", name)),
	})
	if err != nil {
		return nil, fmt.Errorf("listener %q: %w", name, err)
	}
	return l, nil
}

// openAccessLogs opens the access log of every listener of cfg that has
// one and gives it to the listener's handler (New). On an error, those
// already opened are closed.
func (lb *LB) openAccessLogs(cfg *config.Config) error {
	for _, l := range lb.listeners {
		lc := cfg.Listener(l.name)
		if lc == nil {
			continue
		}
		al, err := lb.openAccessLog(l.name, lc.AccessLog)
		if err != nil {
			lb.closeAccessLogs()
			return err
		}
		l.handler.SetAccessLog(al)
	}
	return nil
}

// sameAccessLog reports whether two access_log blocks (either nil) write
// the same lines to the same place.
func sameAccessLog(a, b *config.AccessLog) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Output == b.Output && a.Format == b.Format && a.Sample2xx == b.Sample2xx && a.Buffer == b.Buffer
}

// prepareAccessLogsLocked opens the access logs a reload to cfg adds or
// changes, by listener name (nil for one it removes), before anything
// is applied: a file that cannot be opened refuses the reload. lb.mu
// must be held.
func (lb *LB) prepareAccessLogsLocked(cfg *config.Config) (map[string]*accesslog.Logger, error) {
	next := map[string]*accesslog.Logger{}
	for _, l := range lb.listeners {
		lc, cur := cfg.Listener(l.name), lb.cfg.Listener(l.name)
		if lc == nil || cur == nil || sameAccessLog(cur.AccessLog, lc.AccessLog) {
			continue
		}
		al, err := lb.openAccessLog(l.name, lc.AccessLog)
		if err != nil {
			for _, opened := range next {
				lb.closeAccessLogLater(opened)
			}
			return nil, err
		}
		next[l.name] = al
	}
	return next, nil
}

// applyAccessLogsLocked swaps in the access logs prepareAccessLogsLocked
// opened, closes the ones they replace once their queue is written, and
// returns what changed. lb.mu must be held.
func (lb *LB) applyAccessLogsLocked(next map[string]*accesslog.Logger) []string {
	var changes []string
	for _, l := range lb.listeners {
		al, ok := next[l.name]
		if !ok {
			continue
		}
		old := l.handler.AccessLog()
		l.handler.SetAccessLog(al)
		lb.closeAccessLogLater(old)
		changes = append(changes, fmt.Sprintf("listener %s: access_log changed", l.name))
	}
	return changes
}

// closeAccessLogLater closes l on a goroutine of its own (its writer may
// be stuck on a slow disk; a reload does not wait for it), which
// Shutdown waits for. Requests still holding l find it closed: their
// lines are counted as dropped.
func (lb *LB) closeAccessLogLater(l *accesslog.Logger) {
	if l == nil {
		return
	}
	lb.alogClosing.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), accessLogCloseTimeout)
		defer cancel()
		if err := l.Close(ctx); err != nil {
			lb.log.Warn("access log writer did not finish; lines still queued are lost", zap.Error(err))
		}
	})
}

// closeAccessLogs closes every listener's access log (Shutdown, once
// the listeners are done) and waits for those being closed.
func (lb *LB) closeAccessLogs() {
	for _, l := range lb.listeners {
		lb.closeAccessLogLater(l.handler.AccessLog())
	}
	lb.alogClosing.Wait()
}

// ReopenAccessLogs makes every listener's access log close its file and
// open the same path again (SIGUSR1, after logrotate moved the file
// away). It returns at once; each writer reopens between two batches.
// Safe for concurrent use.
func (lb *LB) ReopenAccessLogs() {
	for _, l := range lb.listeners {
		l.handler.AccessLog().Reopen()
	}
}

// accessLogState is a listener's access log counters for /status (nil
// without an access log).
func accessLogState(l *accesslog.Logger) *admin.AccessLogState {
	if l == nil {
		return nil
	}
	st := l.Stats()
	return &admin.AccessLogState{Written: st.Written, Dropped: st.Dropped, Failed: st.Failed, SampledOut: st.Sampled}
}

// accessLogCounts is the same for /metrics.
func accessLogCounts(l *accesslog.Logger) map[string]uint64 {
	if l == nil {
		return nil
	}
	st := l.Stats()
	return map[string]uint64{metrics.AccessLogWritten: st.Written, metrics.AccessLogDropped: st.Dropped,
		metrics.AccessLogFailed: st.Failed, metrics.AccessLogSampledOut: st.Sampled}
}
