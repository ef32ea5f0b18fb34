package admin

import "fmt"

// PoolReadiness says which pools must have a healthy backend for /readyz
// to answer 200 (the admin block's "ready_pools"). Listeners that are not
// bound and a shutdown fail /readyz whatever it says.
type PoolReadiness int32

const (
	// EveryPool fails readiness as soon as one pool has no healthy
	// backend ("every"; the zero value and the default).
	EveryPool PoolReadiness = iota
	// AnyPool fails readiness only when no pool has a healthy backend
	// ("any"): an instance cut off from every backend is taken out, one
	// application whose backends are all down does not take the instance
	// out for the others.
	AnyPool
	// NoPool never fails readiness for the pools ("none").
	NoPool
)

// String returns the configuration's name of r: "every", "any" or "none".
func (r PoolReadiness) String() string {
	switch r {
	case AnyPool:
		return "any"
	case NoPool:
		return "none"
	}
	return "every"
}

// SetReadyPools changes which pools /readyz requires from the next probe
// on (a reload of ready_pools). Safe for concurrent use.
func (h *Handler) SetReadyPools(r PoolReadiness) { h.readyPools.Store(int32(r)) }

// poolsCheck is /readyz's "pools" check: whether serving pools out of
// total satisfy the rule r.
func poolsCheck(r PoolReadiness, serving, total int) check {
	ok := true
	switch r {
	case EveryPool:
		ok = serving == total
	case AnyPool:
		ok = serving > 0 || total == 0
	}
	c := check{Status: "ok", Detail: fmt.Sprintf("%d of %d pools have a healthy backend; ready_pools = %q", serving, total, r.String())}
	if !ok {
		c.Status = "fail"
	}
	return c
}
