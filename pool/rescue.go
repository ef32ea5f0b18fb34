package pool

// Rescuable reports whether the requests waiting on b should be rescued:
// sent again to another backend and their try at b abandoned. It is true
// while b is held out for not answering its traffic (UNHEALTHY with
// reason silent or passive_ejection) and the pool routes normally, so
// that in panic or fail-open mode, where held-out backends get requests
// on purpose, nothing is moved. The proxy reads it once per rescuable
// try, after the try is registered as waiting (see
// proxy.BackendClient.RescueWaiting). Lock-free and allocation-free.
func (b *Backend) Rescuable() bool {
	return b.heldOut.Load() && b.pool.snap.Load().mode == modeNormal
}

// NoteRescued counts one request rescued from b: its try at b was
// abandoned while it waited for an answer and the request was sent to
// another backend. Shown in /status as backends[].rescued and in
// lb_backend_rescued_total. Lock-free.
func (b *Backend) NoteRescued() { b.rescued.Add(1) }

// Rescued is how many requests NoteRescued counted on b.
func (b *Backend) Rescued() uint64 { return b.rescued.Load() }

// heldOutByTraffic reports whether a transition to to for reason holds a
// backend out because its own traffic went unanswered or failed (the
// states whose waiting requests are rescued).
func heldOutByTraffic(to State, reason Reason) bool {
	return to == StateUnhealthy && (reason == ReasonSilent || reason == ReasonPassiveEjection)
}
