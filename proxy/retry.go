package proxy

import (
	"fmt"
	"time"

	"github.com/valyala/fasthttp"
)

// Retry conditions, the names RetryOptions.On accepts. They are the
// values of a pool's retry "on" list in the configuration.
const (
	// RetryOnConnectFailure: no connection could be made (refused,
	// unreachable, connect timeout), or the pooled connection picked had
	// been cut by BackendClient.CloseAll before anything was written. The
	// request never reached a backend, so it is retried whatever its
	// method.
	RetryOnConnectFailure = "connect_failure"
	// RetryOnReset: the connection was reset or closed after the request
	// was (perhaps partly) sent and before a complete answer arrived,
	// including a kept-alive connection the backend had closed, or the
	// answer was malformed. The backend may have acted on the request.
	RetryOnReset = "reset"
	// RetryOnTimeout: no complete answer within the per-try timeout. The
	// backend may have acted on the request.
	RetryOnTimeout = "timeout"
	// RetryOn502, RetryOn503, RetryOn504: the backend answered with that
	// status.
	RetryOn502 = "502"
	RetryOn503 = "503"
	RetryOn504 = "504"
	// RetryOn5xx: the backend answered with any status from 500 to 599.
	RetryOn5xx = "5xx"
)

// Defaults and fixed values of a RetryPolicy. They equal config's
// constants of the same names (and DefaultRetryOn config's
// DefaultRetryConditions); server's TestRuntimeDefaultsMatchConfig holds
// them to it.
const (
	// DefaultRetryAttempts is how many extra tries follow the first.
	DefaultRetryAttempts = 1
	// DefaultRetryBudgetPercent caps retries at this share of requests.
	DefaultRetryBudgetPercent = 20
	// RetryBudgetMinPerSecond is how many retries per second an upstream
	// may always make on top of its budget percentage, so that an
	// upstream with little traffic can still retry. It is fixed.
	RetryBudgetMinPerSecond = 3
)

// DefaultRetryOn returns the default conditions, connect_failure and
// reset, in a fresh slice: transport failures where no answer came.
// Timeouts and 5xx answers often mean an overloaded backend, where a
// retry adds load, so they are opt-in.
func DefaultRetryOn() []string { return []string{RetryOnConnectFailure, RetryOnReset} }

// retryOn is a set of retry conditions, one bit each.
type retryOn uint8

const (
	onConnectFailure retryOn = 1 << iota
	onReset
	onTimeout
	on502
	on503
	on504
	on5xx
	// onFailing: a 5xx answer of a backend that passive detection finds
	// failing (pool.Backend.Failing), retried whatever On says.
	onFailing
)

// retryConditionNames lists every condition with its bit, in
// documentation order.
var retryConditionNames = [...]struct {
	name string
	bit  retryOn
}{
	{RetryOnConnectFailure, onConnectFailure},
	{RetryOnReset, onReset},
	{RetryOnTimeout, onTimeout},
	{RetryOn502, on502},
	{RetryOn503, on503},
	{RetryOn504, on504},
	{RetryOn5xx, on5xx},
}

// RetryOptions are the plain settings a RetryPolicy is built from (see
// NewRetryPolicy). Unlike an unset Upstream.Retry, zero fields here mean
// zero: Attempts 0 turns retries off, BudgetPercent 0 leaves only the
// fixed RetryBudgetMinPerSecond.
type RetryOptions struct {
	// Attempts is how many extra tries may follow the first, each on a
	// backend not tried yet; 0 turns retries off, connect failures
	// included.
	Attempts int
	// PerTryTimeout bounds one try at a backend; 0 (or anything not
	// shorter than the upstream's ResponseTimeout) gives each try the
	// time left of the ResponseTimeout, which always bounds the whole
	// request, every try included.
	PerTryTimeout time.Duration
	// On lists the conditions retried, names from the RetryOn constants,
	// each at most once. Empty retries nothing.
	On []string
	// BudgetPercent caps retries, over a sliding window of about ten
	// seconds, at this percentage of the upstream's requests plus
	// RetryBudgetMinPerSecond per second (0..100).
	BudgetPercent int
}

// RetryPolicy says which failed tries are sent again to another backend.
// Build one with NewRetryPolicy; the zero value is DefaultRetryPolicy().
// It is a small immutable value, safe to copy and share.
//
// The rules, applied after each failed try:
//
//   - A retry always goes to a backend the request has not tried (up to
//     pool.MaxAvoid of them are remembered), never the same one while
//     another is eligible; when none is left, the failure stands.
//   - The failure must be one of the On conditions, and the request must
//     have tries left (Attempts) and time left (the upstream's
//     ResponseTimeout bounds all tries together; each try gets the
//     shorter of PerTryTimeout and the time left).
//   - A request that never reached a backend (connect_failure) is always
//     safe to send elsewhere. Once it may have been processed (reset,
//     timeout, a 5xx answer), only idempotent methods (GET, HEAD,
//     OPTIONS, PUT, DELETE, TRACE) and requests carrying a non-empty
//     Idempotency-Key header are sent again.
//   - A 5xx answer of a backend that passive detection finds failing
//     (pool.Backend.Failing: consecutive_failures in a row or more, its
//     ejection refused by max_ejected_percent or routed to by panic or
//     fail-open routing although it is out) is retried under the same
//     rules, whatever On says: the LB knows that backend's answers are
//     failures, and the budget bounds the extra load.
//   - The upstream's retry budget must allow it (see BudgetPercent).
//     When it does not, the failure goes back to the client as it is and
//     the pool counts a refused retry.
//
// The LB's server reads a whole request body before the handler runs
// (up to the listener's MaxRequestBodySize, larger ones are refused with
// 413), so every body can be replayed: the replay limit is the
// listener's max_request_body_size. When a 5xx answer was retried and no
// later try gets an answer, the client gets that last backend answer
// rather than an error of the LB's own.
//
// The LB's own saturation (fasthttp.ErrNoFreeConns) and a backend
// without a BackendClient are never retried.
type RetryPolicy struct {
	set       bool
	attempts  int
	perTry    time.Duration
	on        retryOn
	budgetPct int
}

// DefaultRetryPolicy is the policy of an Upstream whose Retry is not set:
// one retry, on connect_failure and reset, no per-try timeout, a 20%
// budget.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		set:       true,
		attempts:  DefaultRetryAttempts,
		on:        onConnectFailure | onReset,
		budgetPct: DefaultRetryBudgetPercent,
	}
}

// NewRetryPolicy checks o and returns its policy. It fails on a negative
// Attempts or PerTryTimeout, a BudgetPercent outside 0..100, and an
// unknown or repeated condition in On.
func NewRetryPolicy(o RetryOptions) (RetryPolicy, error) {
	switch {
	case o.Attempts < 0:
		return RetryPolicy{}, fmt.Errorf("proxy: retry attempts %d is negative", o.Attempts)
	case o.PerTryTimeout < 0:
		return RetryPolicy{}, fmt.Errorf("proxy: retry per-try timeout %s is negative", o.PerTryTimeout)
	case o.BudgetPercent < 0 || o.BudgetPercent > 100:
		return RetryPolicy{}, fmt.Errorf("proxy: retry budget percent %d is outside 0..100", o.BudgetPercent)
	}
	p := RetryPolicy{set: true, attempts: o.Attempts, perTry: o.PerTryTimeout, budgetPct: o.BudgetPercent}
	for _, name := range o.On {
		bit := conditionBit(name)
		switch {
		case bit == 0:
			return RetryPolicy{}, fmt.Errorf("proxy: unknown retry condition %q", name)
		case p.on&bit != 0:
			return RetryPolicy{}, fmt.Errorf("proxy: retry condition %q listed twice", name)
		}
		p.on |= bit
	}
	return p, nil
}

func conditionBit(name string) retryOn {
	for _, c := range retryConditionNames {
		if c.name == name {
			return c.bit
		}
	}
	return 0
}

// orDefault resolves the zero value to DefaultRetryPolicy.
func (p RetryPolicy) orDefault() RetryPolicy {
	if !p.set {
		return DefaultRetryPolicy()
	}
	return p
}

// Attempts is how many extra tries may follow the first.
func (p RetryPolicy) Attempts() int { return p.orDefault().attempts }

// PerTryTimeout bounds one try; 0 means the upstream's ResponseTimeout.
func (p RetryPolicy) PerTryTimeout() time.Duration { return p.orDefault().perTry }

// BudgetPercent is the share of requests that may be retried, on top of
// RetryBudgetMinPerSecond.
func (p RetryPolicy) BudgetPercent() int { return p.orDefault().budgetPct }

// On returns the conditions retried, in a fresh slice, in the order of
// the RetryOn constants.
func (p RetryPolicy) On() []string {
	p = p.orDefault()
	var out []string
	for _, c := range retryConditionNames {
		if p.on&c.bit != 0 {
			out = append(out, c.name)
		}
	}
	return out
}

// condition is the retry condition a failure falls under, and whether the
// request may have reached the backend (been processed); 0 for a failure
// that is never retried.
func (f failure) condition() (cond retryOn, reached bool) {
	switch f {
	case failConnect, failConnectTimeout:
		return onConnectFailure, false
	case failClosed, failTransport:
		return onReset, true
	case failTimeout:
		return onTimeout, true
	}
	// failSaturated is the LB's own limit (moving it elsewhere hides an
	// overload), failOutOfFiles the LB's own shortage (another backend
	// needs a descriptor too), failUnwired a wiring bug, failNoBackend never comes from
	// a try.
	return 0, false
}

// statusCondition is the set of conditions a backend answer with status
// code falls under: its own code and 5xx for 500..599, else 0.
func statusCondition(code int) retryOn {
	switch {
	case code < 500 || code > 599:
		return 0
	case code == 502:
		return on502 | on5xx
	case code == 503:
		return on503 | on5xx
	case code == 504:
		return on504 | on5xx
	}
	return on5xx
}

// allows reports whether a try that ended under cond may be followed by
// another, after attempt tries (1-based). onFailing is always allowed. reached says whether the
// request may have been processed; replayable whether it is then still
// safe to send again (see replayable). It does not allocate.
func (p *RetryPolicy) allows(cond retryOn, reached bool, attempt int, replayable bool) bool {
	return cond&(p.on|onFailing) != 0 && attempt <= p.attempts && (!reached || replayable)
}

// hdrIdempotencyKey marks a request the client made safe to replay
// (draft-ietf-httpapi-idempotency-key-header).
const hdrIdempotencyKey = "Idempotency-Key"

// replayable reports whether a request that may have been processed can
// be sent again: its method is idempotent (RFC 9110 section 9.2.2: GET,
// HEAD, OPTIONS, PUT, DELETE, TRACE), or it carries a non-empty
// Idempotency-Key header (name compared case-insensitively, since header
// names are kept as received). It does not allocate.
func replayable(h *fasthttp.RequestHeader) bool {
	switch string(h.Method()) {
	case fasthttp.MethodGet, fasthttp.MethodHead, fasthttp.MethodOptions,
		fasthttp.MethodPut, fasthttp.MethodDelete, fasthttp.MethodTrace:
		return true
	}
	for k, v := range h.All() {
		if len(k) == len(hdrIdempotencyKey) && equalFold(k, hdrIdempotencyKey) && len(trimOWS(v)) > 0 {
			return true
		}
	}
	return false
}
