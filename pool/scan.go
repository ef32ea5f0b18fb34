package pool

import "math/rand/v2"

// fromRandomPlace returns the first backend of set for which ok is true,
// looking at them in order from a random place and wrapping around, at
// most looks of them; nil if none is found. It is how the pool finds a
// stand-in without asking the policy (a request a ramping backend turned
// down, a Failing backend's shed pick, a rescue in panic routing): the
// random start spreads those requests over the candidates. ok may have
// effects (a take that counts the request in flight): it is called once
// per backend looked at, in order, and stops at the first true.
// Allocation-free when ok does not escape.
func fromRandomPlace(set []*Backend, looks int, ok func(*Backend) bool) *Backend {
	n := len(set)
	if n == 0 {
		return nil
	}
	start := rand.IntN(n)
	for k := 0; k < min(n, looks); k++ {
		i := start + k
		if i >= n {
			i -= n
		}
		if x := set[i]; ok(x) {
			return x
		}
	}
	return nil
}
