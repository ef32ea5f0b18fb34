package config

import (
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// The values of the admin block's "ready_pools": which pools must have a
// healthy backend for /readyz to answer 200.
const (
	// ReadyPoolsEvery makes /readyz 503 as soon as any one pool has no
	// healthy backend (the default): an instance that cannot serve some
	// pool is taken out of the tier in front.
	ReadyPoolsEvery = "every"
	// ReadyPoolsAny makes /readyz 503 only when no pool has a healthy
	// backend: an instance cut off from every backend is taken out, but
	// one application whose backends are all down does not take the
	// instances out for every other pool (what a Kubernetes Service in
	// front needs: when every pod is unready it has no endpoint left).
	ReadyPoolsAny = "any"
	// ReadyPoolsNone never fails /readyz for the pools; their checks still
	// say which have no healthy backend.
	ReadyPoolsNone = "none"

	// DefaultReadyPools is ready_pools when the admin block does not set it.
	DefaultReadyPools = ReadyPoolsEvery
)

// ReadyPoolsValues returns the accepted values of ready_pools, in the
// order the documentation lists them.
func ReadyPoolsValues() []string {
	return []string{ReadyPoolsEvery, ReadyPoolsAny, ReadyPoolsNone}
}

// decodeReadyPools decodes the admin block's optional ready_pools.
func decodeReadyPools(expr hcl.Expression) (string, hcl.Diagnostics) {
	v, diags := decodeText("ready_pools", expr, DefaultReadyPools)
	if v != "" && !slices.Contains(ReadyPoolsValues(), v) {
		diags = append(diags, errorf(expr.Range(), "Unknown ready_pools value",
			"ready_pools = %q is not one of %s: %q (/readyz fails when any pool has no healthy backend), %q (only when none has) or %q (the pools never fail it).",
			v, strings.Join(ReadyPoolsValues(), ", "), ReadyPoolsEvery, ReadyPoolsAny, ReadyPoolsNone))
	}
	return v, diags
}
