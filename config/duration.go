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
	s, set, diags := decodeValue[string](expr)
	if diags.HasErrors() {
		return 0, diags
	}
	if !set {
		return def, diags
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, append(diags, errorf(expr.Range(), "Invalid duration",
			"%s = %q is not a duration: write a number with a unit, such as \"200ms\", \"10s\" or \"1m30s\".",
			name, s))
	}
	if d <= 0 {
		return 0, append(diags, errorf(expr.Range(), "Invalid duration",
			"%s must be longer than zero; it is %q. Remove it to use the default, %s.",
			name, s, def))
	}
	return d, diags
}
