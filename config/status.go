package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Bounds of an HTTP status code in expected_status.
const (
	MinStatus = 100
	MaxStatus = 599
)

// StatusRange is an inclusive range of HTTP status codes, both ends in
// 100..599 and Min <= Max. A single code is a range with Min == Max. It is
// the project's one status-range type: healthcheck.Spec takes it too, so
// a parsed expected_status reaches the checker as it is.
type StatusRange struct {
	Min, Max int
}

// Contains reports whether code lies in the range.
func (r StatusRange) Contains(code int) bool {
	return r.Min <= code && code <= r.Max
}

// String returns the range as written in expected_status: "200" or "200-299".
func (r StatusRange) String() string {
	if r.Min == r.Max {
		return strconv.Itoa(r.Min)
	}
	return strconv.Itoa(r.Min) + "-" + strconv.Itoa(r.Max)
}

// StatusRanges is a list of status ranges; a code matches if any range
// contains it, so the empty list matches nothing. It is read-only once
// built and safe for concurrent use.
type StatusRanges []StatusRange

// Contains reports whether any range contains code. It does not allocate.
func (rs StatusRanges) Contains(code int) bool {
	for _, r := range rs {
		if r.Contains(code) {
			return true
		}
	}
	return false
}

// String joins the ranges with commas, the form ParseStatusRanges reads.
func (rs StatusRanges) String() string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// ParseStatusRanges parses an expected_status value: a comma-separated
// list of codes ("200") and inclusive ranges ("200-299"), such as "200",
// "200,202", "200-299" or "200-204,301". Spaces around items are allowed.
// Every code must be in 100..599 and a range must not run backwards. The
// ranges are returned in the order written.
func ParseStatusRanges(s string) ([]StatusRange, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("no status codes given")
	}
	var out []StatusRange
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("empty item in %q", s)
		}
		loText, hiText, isRange := strings.Cut(item, "-")
		lo, err := parseStatus(strings.TrimSpace(loText))
		if err != nil {
			return nil, err
		}
		hi := lo
		if isRange {
			if hi, err = parseStatus(strings.TrimSpace(hiText)); err != nil {
				return nil, err
			}
			if hi < lo {
				return nil, fmt.Errorf("range %q runs backwards", item)
			}
		}
		out = append(out, StatusRange{Min: lo, Max: hi})
	}
	return out, nil
}

// parseStatus parses one three-digit status code in MinStatus..MaxStatus.
func parseStatus(s string) (int, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a status code", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < MinStatus || n > MaxStatus {
		return 0, fmt.Errorf("%s is outside %d..%d", s, MinStatus, MaxStatus)
	}
	return n, nil
}
