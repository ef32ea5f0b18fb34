package server

import (
	"time"

	"github.com/lbtrust/lb/pool"
	"github.com/lbtrust/lb/proxy"
	"go.uber.org/zap"
)

// rescueReportDelay is how long after waking the requests waiting on a
// backend the rescue is summed up in the log: the woken tries move within
// microseconds, so this only has to outlast a scheduling delay on a
// loaded machine.
const rescueReportDelay = 250 * time.Millisecond

// rescue wakes the requests waiting on a backend that was just held out
// for not answering its traffic (t), so that the replayable ones move to
// other backends (see proxy.BackendClient.RescueWaiting), and logs, a
// moment later, how many were woken and how many moved, at info level
// ("requests rescued from a backend that stopped answering", with pool,
// backend, reason, woken and rescued). Nothing is logged when no request
// was waiting. It never blocks.
func (lb *LB) rescue(t pool.Transition, client *proxy.BackendClient) {
	before := t.Target.Rescued()
	woken := client.RescueWaiting()
	if woken == 0 {
		return
	}
	time.AfterFunc(rescueReportDelay, func() {
		lb.log.Info("requests rescued from a backend that stopped answering",
			zap.String("pool", t.Pool), zap.String("backend", t.Backend),
			zap.String("reason", string(t.Reason)),
			zap.Int("woken", woken), zap.Uint64("rescued", t.Target.Rescued()-before))
	})
}
