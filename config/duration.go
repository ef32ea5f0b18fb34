package config

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// decodeDuration decodes the optional duration attribute name. Durations
// are strings in time.ParseDuration form ("200ms", "10s", "1m30s") and
// must be positive. It returns def when the attribute is absent and 0
// when it is invalid, so later checks can skip it.
func decodeDuration(name string, expr hcl.Expression, def time.Duration) (time.Duration, hcl.Diagnostics) {
	d, text, set, diags := parseDurationAttr(name, expr)
	switch {
	case diags.HasErrors():
		return 0, diags
	case !set:
		return def, diags
	case d <= 0:
		return 0, append(diags, errorf(expr.Range(), "Invalid duration",
			"%s must be longer than zero; it is %q. Remove it to use the default, %s.",
			name, text, def))
	}
	return d, diags
}

// decodeDelay decodes the optional duration attribute name, a delay that
// may be zero ("0s" means at once) but not negative. It returns def when
// the attribute is absent and 0 when it is invalid; since 0 is also a
// valid delay, callers that care must check diags. zeroMeans says what
// "0s" does, for the detail ("cancel them at once").
func decodeDelay(name string, expr hcl.Expression, def time.Duration, zeroMeans string) (time.Duration, hcl.Diagnostics) {
	d, text, set, diags := parseDurationAttr(name, expr)
	switch {
	case diags.HasErrors():
		return 0, diags
	case !set:
		return def, diags
	case d < 0:
		return 0, append(diags, errorf(expr.Range(), "Invalid duration",
			"%s must not be negative; it is %q. Write \"0s\" to %s, or remove it to use the default, %s.",
			name, text, zeroMeans, def))
	}
	return d, diags
}

// requireDuration decodes the required, positive duration attribute name
// of the block declared at decl, described by what; example is a sample
// value for the detail. It returns 0 when the attribute is absent or
// invalid.
func requireDuration(what, name, example string, expr hcl.Expression, decl hcl.Range) (time.Duration, hcl.Diagnostics) {
	d, text, set, diags := parseDurationAttr(name, expr)
	switch {
	case diags.HasErrors():
		return 0, diags
	case !set:
		return 0, append(diags, missingAttr(decl, what, name, example))
	case d <= 0:
		return 0, append(diags, errorf(expr.Range(), "Invalid duration",
			"%s must be longer than zero; it is %q. Write a positive duration, such as %s = %s.",
			name, text, name, example))
	}
	return d, diags
}

// parseDurationAttr decodes the duration attribute name without checking
// its sign, and returns it with its text as written. set is false when
// the attribute is absent or invalid, in which case diags say why.
func parseDurationAttr(name string, expr hcl.Expression) (d time.Duration, text string, set bool, diags hcl.Diagnostics) {
	text, set, diags = decodeValue[string](expr)
	if !set {
		return 0, "", false, diags
	}
	d, err := time.ParseDuration(text)
	if err != nil {
		return 0, "", false, append(diags, errorf(expr.Range(), "Invalid duration",
			"%s = %q is not a duration: write a number with a unit, such as \"200ms\", \"10s\" or \"1m30s\".",
			name, text))
	}
	return d, text, true, diags
}
