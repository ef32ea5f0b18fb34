// Package register is `lb register`, a sidecar that keeps one backend
// registered in etcd for the etcd discovery source (discovery/etcd) of
// every lb instance that watches the prefix.
//
// The backend's key is Prefix + Address (give the prefix its trailing
// slash), its value {"address":"IP:port","weight":N}, and the key lives
// under a lease of TTL:
//
//   - While the backend's own readiness check (Config.Check, a GET that
//     must answer 2xx) passes, or when there is none, the sidecar keeps
//     the lease alive (etcd's KeepAlive, about every TTL/3).
//   - A check the backend answers with anything but 2xx (503 while it
//     drains, say), or refuses (nothing listens), revokes the lease, which
//     deletes the key at once: every lb stops sending the backend new
//     requests. A check that gets no answer (a timeout, a reset
//     connection) revokes it only as the Config.Unanswered-th in a row
//     (default DefaultUnanswered): one slow answer on a busy host must not
//     take a backend out of every lb, and one that is really gone is seen
//     by the lbs' own health checks meanwhile. The sidecar checks
//     on every CheckInterval and registers again (a new lease) once the
//     check passes; each lb then takes the backend back only after its
//     own first passing health check.
//   - On shutdown (Run's context ends: SIGTERM or SIGINT for the command)
//     the sidecar revokes the lease, deleting the key, and returns.
//   - Killed outright (SIGKILL, a crash, a lost host), it renews nothing
//     and etcd deletes the key when the lease expires, at most TTL later.
//   - If etcd cannot be reached the sidecar logs it and tries again with
//     a capped exponential backoff (MinBackoff to MaxBackoff); a lease
//     that expired meanwhile is replaced by a new one. It never gives up.
package register
