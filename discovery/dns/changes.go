package dns

import "github.com/lbtrust/lb/discovery"

// changes counts how next differs from prev: addresses added, removed, and
// kept with another weight.
func changes(prev, next []discovery.Target) (added, removed, reweighted int) {
	was := make(map[string]int, len(prev))
	for _, t := range prev {
		was[t.Address] = t.Weight
	}
	for _, t := range next {
		w, ok := was[t.Address]
		switch {
		case !ok:
			added++
		case w != t.Weight:
			reweighted++
		}
		delete(was, t.Address)
	}
	return added, len(was), reweighted
}
