package dns

import (
	"time"

	mdns "github.com/miekg/dns"

	"github.com/lbtrust/lb/config"
)

// NoTTLRefresh is the refresh after a lookup that saw no TTL at all: only
// negative answers, none with an SOA to say how long they hold. Short
// enough that a name that comes back is seen soon, long enough not to
// press the resolver.
const NoTTLRefresh = 5 * time.Second

// firstRetry is the wait after the first failed lookup in a row; each
// further failure doubles it, up to the ceiling of retryDelay.
const firstRetry = time.Second

// retryCeilingBeforeSuccess caps the retry delay of a source that never
// succeeded, so a resolver that comes up late is seen within it.
const retryCeilingBeforeSuccess = 30 * time.Second

// minTTL is the smallest TTL, in seconds, seen in one lookup.
type minTTL struct {
	secs uint32
	set  bool
}

// add takes secs into account.
func (m *minTTL) add(secs uint32) {
	if !m.set || secs < m.secs {
		m.secs, m.set = secs, true
	}
}

// observe takes an answer's TTLs into account: every record of its answer
// section when it has one (CNAMEs included), else the negative TTL of the
// SOA in its authority section (RFC 2308: the smaller of the record's TTL
// and its MINIMUM), else nothing.
func (m *minTTL) observe(r *mdns.Msg) {
	if len(r.Answer) > 0 {
		for _, rr := range r.Answer {
			m.add(rr.Header().Ttl)
		}
		return
	}
	for _, rr := range r.Ns {
		if soa, ok := rr.(*mdns.SOA); ok {
			m.add(min(soa.Hdr.Ttl, soa.Minttl))
		}
	}
}

// clampTTL is a TTL of secs seconds clamped to [config.DNSMinRefresh,
// config.DNSMaxRefresh].
func clampTTL(secs uint32) time.Duration {
	return min(max(time.Duration(secs)*time.Second, config.DNSMinRefresh), config.DNSMaxRefresh)
}

// refreshAfter is the wait after a successful lookup that saw ttl: the
// written refresh when there is one, else the clamped TTL, else
// NoTTLRefresh.
func refreshAfter(written time.Duration, ttl minTTL) time.Duration {
	switch {
	case written > 0:
		return written
	case ttl.set:
		return clampTTL(ttl.secs)
	}
	return NoTTLRefresh
}

// retryCeiling is the longest retry delay: the written refresh, else the
// last successful lookup's refresh (0: none yet), else
// retryCeilingBeforeSuccess.
func retryCeiling(written, last time.Duration) time.Duration {
	switch {
	case written > 0:
		return written
	case last > 0:
		return last
	}
	return retryCeilingBeforeSuccess
}

// retryDelay is the wait after the (fails+1)th failed lookup in a row:
// firstRetry doubled fails times, at most ceiling.
func retryDelay(fails int, ceiling time.Duration) time.Duration {
	d := firstRetry
	for range fails {
		if d >= ceiling {
			break
		}
		d *= 2
	}
	return min(d, ceiling)
}
