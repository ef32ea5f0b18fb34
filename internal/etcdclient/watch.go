package etcdclient

import (
	"context"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// ErrSilent is the error of a watch stream that answered neither events
// nor a progress request for a whole probe interval.
var ErrSilent = errors.New("etcd did not answer a progress request on the watch")

// WatchEnded says whether a response (wr, received with ok from the
// watch channel of prefix, followed from after revision rev) ends the
// watch, and why: err is nil when ctx ended (a stop is not a failure),
// else the channel closed, the response's error, or its cancellation.
func WatchEnded(ctx context.Context, wr clientv3.WatchResponse, ok bool, prefix string, rev int64) (ended bool, err error) {
	switch {
	case ctx.Err() != nil:
		return true, nil
	case !ok:
		return true, fmt.Errorf("watch of prefix %q closed", prefix)
	case wr.Err() != nil:
		return true, fmt.Errorf("watch of prefix %q after revision %d: %w", prefix, rev, wr.Err())
	case wr.Canceled:
		return true, fmt.Errorf("watch of prefix %q canceled: %s", prefix, wr.CancelReason)
	}
	return false, nil
}

// Liveness notices a watch stream that went silent: on a tick (every
// Every) with nothing heard since the last one it asks etcd for a
// progress report, and on the next tick with still nothing heard it
// reports ErrSilent. The zero value with Every set is ready; it is not
// safe for concurrent use (one watch loop owns it).
type Liveness struct {
	// Every is the tick interval, which also bounds the progress request.
	Every time.Duration

	quiet   bool // nothing heard since the last tick
	probing bool // a progress request is out
}

// Heard records a response (events or a progress report).
func (l *Liveness) Heard() { l.quiet, l.probing = false, false }

// Tick is called every Every: it returns an error wrapping ErrSilent
// when a progress request went unanswered for a whole interval, else nil
// (after asking for progress when nothing was heard). wctx is the watch's
// context (the request must carry its leader requirement).
func (l *Liveness) Tick(wctx context.Context, cli *clientv3.Client, prefix string) error {
	switch {
	case !l.quiet:
		l.quiet = true
	case l.probing:
		return fmt.Errorf("watch of prefix %q: %w within %s", prefix, ErrSilent, l.Every)
	default:
		// While the client reconnects, nobody reads the request: bound
		// the wait, and count the probe as sent either way.
		pctx, cancel := context.WithTimeout(wctx, l.Every)
		cli.RequestProgress(pctx)
		cancel()
		l.probing = true
	}
	return nil
}

// Watch opens the watch of prefix from after revision rev on wctx, which
// cancel ends, and returns its channel. The client's own Watch does not
// return until the watch stream is open, and it retries an unreachable
// etcd without end: an etcd that stops between a read and the watch that
// follows it would hold the caller there, deaf to its liveness ticks,
// until wctx ends. Watch bounds that wait by timeout: past it, it calls
// cancel and returns an error (the caller starts a new session).
func Watch(wctx context.Context, cancel context.CancelFunc, cli *clientv3.Client, prefix string, rev int64, timeout time.Duration) (clientv3.WatchChan, error) {
	bound := time.AfterFunc(timeout, cancel)
	wch := cli.Watch(wctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	if !bound.Stop() {
		return nil, fmt.Errorf("watch of prefix %q after revision %d: not open within %s", prefix, rev, timeout)
	}
	return wch, nil
}
