package healthcheck

import (
	"fmt"
	"strconv"
	"strings"
)

// StatusRange is an inclusive range of HTTP status codes: {200, 299} matches
// 200 through 299, {200, 200} matches 200 only. Valid ranges have
// 100 <= Min <= Max <= 599.
type StatusRange struct{ Min, Max int }

// Match reports whether code lies inside r.
func (r StatusRange) Match(code int) bool { return r.Min <= code && code <= r.Max }

// String renders r as "200" or "200-299", the configuration's syntax.
func (r StatusRange) String() string {
	if r.Min == r.Max {
		return strconv.Itoa(r.Min)
	}
	return strconv.Itoa(r.Min) + "-" + strconv.Itoa(r.Max)
}

// StatusSet is a list of status ranges; a code matches the set when it lies
// inside any of them. The empty set matches nothing (Spec applies its default
// before building one). A StatusSet is read-only once built and safe for
// concurrent use.
type StatusSet []StatusRange

// Match reports whether code lies inside any range of s. It does not
// allocate.
func (s StatusSet) Match(code int) bool {
	for _, r := range s {
		if r.Match(code) {
			return true
		}
	}
	return false
}

// String renders s as "200,202" or "200-299", the configuration's syntax.
func (s StatusSet) String() string {
	parts := make([]string, len(s))
	for i, r := range s {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// validate returns an error naming the first range of s that is not a valid
// HTTP status range.
func (s StatusSet) validate() error {
	for _, r := range s {
		if r.Min < 100 || r.Max > 599 || r.Min > r.Max {
			return fmt.Errorf("range %d-%d: want 100 <= min <= max <= 599", r.Min, r.Max)
		}
	}
	return nil
}
