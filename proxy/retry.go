package proxy

// retryPolicy decides whether a failed attempt is tried again on another
// backend. It is consulted after every failed attempt; the Handler adds the
// failed backend to the request's pool.Avoid list before the next
// Acquire. A later issue replaces the default with a configurable policy
// (budgets, more attempts, retry on 5xx); the forwarding loop does not
// change.
type retryPolicy interface {
	// again reports whether the request may be sent again after its
	// attempt-th try (1-based) failed with f. idempotent is true for GET
	// and HEAD. It must be safe for concurrent use and not allocate.
	again(f failure, idempotent bool, attempt int) bool
}

// retryUnreached is the default policy: exactly one more try, on another
// backend, for a request that never reached a backend. A failed connect
// always qualifies; a connection found closed before any answer (most
// often a kept-alive connection the backend had closed) qualifies only for
// GET and HEAD, because the backend may have acted on the request.
// Saturation (the LB's own connection limit) and timeouts are not
// retried.
type retryUnreached struct{}

func (retryUnreached) again(f failure, idempotent bool, attempt int) bool {
	if attempt > 1 {
		return false
	}
	switch f {
	case failConnect, failConnectTimeout:
		return true
	case failClosed:
		return idempotent
	}
	return false
}
