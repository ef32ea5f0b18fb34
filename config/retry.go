package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// decodeRetryBlock decodes a pool's retry block; b is nil when the pool
// has none, which gives every default. p is the pool with its own
// attributes decoded: a written per_try_timeout must not be longer than
// its header_timeout, written or defaulted, which pb says.
func decodeRetryBlock(b *retryBlock, p *Pool, pb *poolBlock) (Retry, hcl.Diagnostics) {
	if b == nil {
		return defaultRetry(), nil
	}
	var diags, moreDiags hcl.Diagnostics
	r := Retry{DeclRange: b.DeclRange}

	r.Attempts, moreDiags = decodeIntIn("attempts", b.Attempts, DefaultRetryAttempts, 0, MaxRetryAttempts)
	diags = append(diags, moreDiags...)

	r.PerTryTimeout, moreDiags = decodePerTryTimeout(b.PerTryTimeout)
	diags = append(diags, moreDiags...)
	if r.PerTryTimeout > 0 && p.HeaderTimeout > 0 && r.PerTryTimeout > p.HeaderTimeout {
		diags = append(diags, perTryOverHeaderTimeout(b, p, pb, r.PerTryTimeout))
	}

	r.On, moreDiags = decodeRetryOn(b.On)
	diags = append(diags, moreDiags...)

	r.BudgetPercent, moreDiags = decodeIntIn("budget_percent", b.BudgetPercent, DefaultRetryBudgetPercent, 0, 100)
	diags = append(diags, moreDiags...)
	return r, diags
}

// perTryOverHeaderTimeout reports a written per_try_timeout perTry
// that is longer than the pool's header_timeout, saying whether that was
// written, defaulted to response_timeout or the default.
func perTryOverHeaderTimeout(b *retryBlock, p *Pool, pb *poolBlock, perTry time.Duration) *hcl.Diagnostic {
	var of, raise string
	switch {
	case written(pb.HeaderTimeout):
		of = fmt.Sprintf("the pool's header_timeout (%s)", p.HeaderTimeout)
		raise = "raise header_timeout"
	case p.ResponseTimeout > 0:
		of = fmt.Sprintf("the pool's header_timeout (%s, by default its response_timeout at %s)",
			p.HeaderTimeout, lineOf(pb.ResponseTimeout.Range()))
		raise = "raise response_timeout"
	default:
		of = fmt.Sprintf("the pool's default header_timeout (%s)", p.HeaderTimeout)
		raise = "write a longer header_timeout in the pool"
	}
	return errorf(b.PerTryTimeout.Range(), "Per-try timeout longer than header timeout",
		"per_try_timeout (%s) is longer than %s, which bounds every try together until the response header arrives, so a try could never use it all: lower per_try_timeout, or %s.",
		perTry, of, raise)
}

// defaultRetry is the retry policy of a pool without a retry block.
func defaultRetry() Retry {
	return Retry{
		Attempts:      DefaultRetryAttempts,
		PerTryTimeout: DefaultPerTryTimeout,
		On:            DefaultRetryConditions(),
		BudgetPercent: DefaultRetryBudgetPercent,
	}
}

// decodePerTryTimeout decodes per_try_timeout: absent is 0, the pool's
// header_timeout; written, it must be longer than zero.
func decodePerTryTimeout(expr hcl.Expression) (time.Duration, hcl.Diagnostics) {
	d, text, set, diags := parseDurationAttr("per_try_timeout", expr)
	if set && d <= 0 {
		return 0, append(diags, errorf(expr.Range(), "Invalid duration",
			"per_try_timeout must be longer than zero; it is %q. Remove it to give each try the pool's whole header_timeout.",
			text))
	}
	return d, diags
}

// decodeRetryOn decodes the "on" list: at least one condition, each one
// of RetryConditions() and none twice. A problem with one element points
// at that element. It returns the default when the attribute is absent
// and nil when it is invalid.
func decodeRetryOn(expr hcl.Expression) ([]string, hcl.Diagnostics) {
	on, set, diags := decodeValue[[]string](expr)
	switch {
	case diags.HasErrors():
		return nil, diags
	case !set:
		return DefaultRetryConditions(), diags
	case len(on) == 0:
		return nil, append(diags, errorf(expr.Range(), "Empty retry condition list",
			"on must list at least one condition, such as [%s]; to turn retries off, write attempts = 0 instead.",
			strings.Join(quoteAll(DefaultRetryConditions()), ", ")))
	}

	at := elemRanges(expr, len(on))
	for i, cond := range on {
		switch {
		case !slices.Contains(RetryConditions(), cond):
			diags = append(diags, errorf(at(i), "Unknown retry condition",
				"%q is not a retry condition; use any of %s.", cond, strings.Join(RetryConditions(), ", ")))
		case slices.Index(on, cond) < i:
			diags = append(diags, errorf(at(i), "Duplicate retry condition",
				"%q is listed twice; list each condition once.", cond))
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return on, diags
}
