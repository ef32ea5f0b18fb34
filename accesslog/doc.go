// Package accesslog writes one line per client exchange (a request, a
// streamed answer or a WebSocket when it ends) to stdout, stderr or a
// file, as JSON or in the Apache/NGINX "combined" layout, off the request
// path.
//
// The request path hands a Record to Logger.Log, which copies it by value
// into a slot of a bounded queue (its byte fields into the slot's own
// buffer) and returns at once: it never blocks and, once the slots'
// buffers have grown to fit, never allocates. One goroutine per Logger
// formats the queued records (appending bytes, no reflection) and writes
// them in batches. When the queue is full the record is dropped and
// counted (Stats.Dropped): a slow or stuck disk costs requests nothing.
// Reopen makes the writer close and reopen its file (SIGUSR1, after
// logrotate has moved it).
//
// The package imports nothing from the project and has no package-level
// mutable state.
package accesslog
