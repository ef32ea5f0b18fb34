// Package dns is a discovery source that reads a pool's backends from DNS:
// SRV records (host, port and weight per record) or A and AAAA records (one
// backend per address, on a configured port). It asks one resolver
// directly with github.com/miekg/dns, because the standard resolver gives
// neither TTLs nor SRV weights.
//
// The rules:
//
//   - Lookups. The name is looked up at once, then again after each
//     refresh. A query goes over UDP (EDNS0, 1232-byte buffer) and again
//     over TCP when the answer comes back truncated. Timeout bounds a whole
//     lookup, every query of it included.
//   - Refresh. A written refresh is used as it is. Otherwise the lookup's
//     smallest TTL, over every record it used (SRV records, addresses,
//     CNAMEs on the way) and every negative answer's SOA (RFC 2308: the
//     smaller of the SOA's TTL and its MINIMUM), clamped to
//     [config.DNSMinRefresh, config.DNSMaxRefresh] (1s to 5m): a TTL of 0
//     does not make the LB ask in a loop, and a day-long TTL does not hide
//     a change for a day. A lookup that saw no TTL at all (negative answers
//     without an SOA) refreshes after NoTTLRefresh (5s).
//   - SRV. Only the records of the lowest priority value are used: higher
//     values are fallbacks (RFC 2782), and they take over when the lower
//     ones are removed from DNS, not when their backends fail checks (the
//     pool's health checks and panic routing handle that). A record whose
//     target is "." (service not available, RFC 2782) gives nothing. Each
//     record's target is resolved to its addresses from the answer's
//     Additional section when it holds any for that target, else by an A
//     and an AAAA query; every address is a backend "address:port" with the
//     record's weight (a weight of 0 counts as 1). Several records giving
//     one address add their weights.
//   - A. Name is asked for A and AAAA; every address is a backend on Port
//     with weight 1.
//   - Addresses. IPv6 backends are written "[2001:db8::1]:8080".
//   - Empty answers. An authoritative empty answer (NXDOMAIN, or NOERROR
//     with no usable record, for Name or for every SRV target) is a
//     successful lookup of an empty set: the sink gets an Update with no
//     targets and the pool drains the backends it had from here, as when a
//     file removes them. An SRV target with no address gives nothing, the
//     other targets still count.
//   - Failures. A query that times out, gets SERVFAIL, REFUSED or any other
//     error rcode, or cannot reach the resolver fails the whole lookup: the
//     sink gets Fail and no Update, so the last set stays in force. The
//     lookup is retried after 1s, doubling after each further failure up to
//     the refresh (the written refresh, else the last successful lookup's,
//     else 30s before any success).
//   - Logs. Each change of the set is logged at info (added, removed and
//     reweighted counts), the first success after failures at info, each
//     failure at warn; every line names the source (name, type, resolver).
package dns
