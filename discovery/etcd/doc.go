// Package etcd is the etcd discovery source: the backends of a pool are
// the keys under one prefix of an etcd cluster, as `lb register`
// (package register) or any other tool writes them.
//
// # Keys and values
//
// One key per backend, anywhere under the prefix (the key's name is not
// read; `lb register` uses prefix + address). The value is JSON:
//
//	{"address":"10.0.0.5:8080","weight":2}
//
// Its fields:
//
//   - address is required: "IP:port" (IPv6 in brackets), port 1..65535.
//     A host name is refused: sources hand the pool IP addresses
//     (discovery.Target), and etcd is the registry here, not DNS. The
//     address is canonicalized ("[::ffff:10.0.0.5]:80" is
//     "10.0.0.5:80"), so two spellings of one backend are one backend.
//   - weight is optional, a whole number of at least 1 (default
//     etcdvalue.DefaultWeight, 1).
//   - Other fields are ignored, so registrations may carry more.
//
// Package etcdvalue parses and writes these values.
//
// A value that breaks these rules is logged at warn level with its key
// and skipped: that key counts as absent (a key whose value turns bad is
// removed, not kept at its old value), and every other key still
// applies. Two keys with the same address are one backend, with the
// weight of the key that sorts first.
//
// # Reading and watching
//
// Run reads the prefix (a linearizable range read at revision R) and
// hands the complete set to the Sink, then watches the prefix from R+1
// and hands the complete set again after every watch response that
// changed a key. A lease that expires deletes its key, and that is a
// watch event like any other.
//
// Run tells the Sink Fail, keeping the last set in force, and reads the
// whole prefix again, when:
//
//   - the read fails or takes longer than ReadTimeout;
//   - the watch is canceled: history compacted past the revision it
//     needs (ErrCompacted), its member lost the cluster's leader (the
//     watch requires one, so a partitioned member is noticed), or any
//     other cancellation;
//   - etcd stops answering: the client hides a broken connection and
//     resumes the watch by itself when it can, so Run asks the watch
//     stream for a progress report every ProbeInterval when it has heard
//     nothing, and gives up on a stream that has not answered by the
//     next tick. A dead or unreachable etcd is so reported within two to
//     three ProbeIntervals.
//
// Reads after a failure are spaced by a backoff that starts at MinBackoff
// and doubles up to MaxBackoff (each delay randomized by up to a fifth
// either way, so a fleet of load balancers does not come back in step);
// a successful read resets it.
//
// An empty prefix (no keys, or only bad values) is a successful read of
// an empty set: the sink is told the pool has no backends here.
package etcd
