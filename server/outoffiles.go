package server

import "go.uber.org/zap"

// closeIdleBackendConns is every traffic listener's
// proxy.ServerOptions.OutOfFiles hook: when accepting fails because the
// process ran out of file descriptors, it closes every backend's idle
// kept-alive connections (as NGINX closes idle keep-alive connections
// under the same pressure), so descriptors come free for the clients
// waiting in the backlog; the next request to a backend dials again.
// Connections carrying a request are left alone. It takes no LB lock and
// does not wait (the listener's accept goroutine calls it).
func (lb *LB) closeIdleBackendConns() {
	n := 0
	lb.runtimes.Range(func(_, v any) bool {
		if c := clientOf(v.(*backendRuntime).backend); c != nil {
			c.CloseIdle()
			n++
		}
		return true
	})
	lb.log.Debug("out of file descriptors: idle backend connections closed", zap.Int("backends", n))
}
