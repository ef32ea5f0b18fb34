package server

import (
	"github.com/lbtrust/lb/pool"
	"github.com/lbtrust/lb/proxy"
	"go.uber.org/zap"
)

// rescue wakes the requests waiting on a backend that was just held out
// for not answering its traffic (t), so that the replayable ones move to
// other backends (see proxy.BackendClient.RescueWaiting), and, once each
// has decided, logs at info level how many were woken and how many moved
// ("requests rescued from a backend that stopped answering", with pool,
// backend, reason, woken and rescued). Nothing is logged when no request
// was waiting. It never blocks.
func (lb *LB) rescue(t pool.Transition, client *proxy.BackendClient) {
	client.RescueWaiting(func(woken, rescued int) {
		if woken == 0 {
			return
		}
		lb.log.Info("requests rescued from a backend that stopped answering",
			zap.String("pool", t.Pool), zap.String("backend", t.Backend),
			zap.String("reason", string(t.Reason)),
			zap.Int("woken", woken), zap.Int("rescued", rescued))
	})
}
