package fleet

// Combine is the fleet's verdict on a backend from its owners' verdicts:
// owners in rank order (as Owners returns them), verdicts the published
// ones (any member's; those of non-owners are ignored).
//
// The rule, the same on every instance:
//   - out if any owner says out: a backend that fails one owner's probes
//     is down for the fleet, as it would be for one instance probing it
//     alone (a vantage point that cannot reach it is a client that cannot
//     either). StateDown wins over StateDraining, which wins over StateUp;
//   - in only when every owner that has a verdict says in;
//   - an owner with no verdict yet (it has just become an owner, or its
//     first probes are under way) has no vote: ok is false only when no
//     owner has one, and the caller then keeps what it had.
//
// Among owners saying the same, the verdict of the highest-ranked owner
// is returned, so every instance names the same member. Allocates nothing.
func Combine(owners []string, verdicts []Verdict) (v Verdict, ok bool) {
	best := -1
	for _, o := range owners {
		for i := range verdicts {
			if verdicts[i].Member != o {
				continue
			}
			if best < 0 || rank(verdicts[i].State) > rank(verdicts[best].State) {
				best = i
			}
			break
		}
	}
	if best < 0 {
		return Verdict{}, false
	}
	return verdicts[best], true
}

// rank orders states by how far out of rotation they put a backend.
func rank(s State) int {
	switch s {
	case StateDown:
		return 2
	case StateDraining:
		return 1
	}
	return 0
}
