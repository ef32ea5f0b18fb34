package fleet

import (
	"slices"

	"github.com/lbtrust/lb/internal/hash64"
)

// Score is the rendezvous weight of member for backend: FNV-1a 64 over
// the backend, a 0 byte and the member, then the splitmix64 finalizer
// (internal/hash64, as balancer.HashKey). It has no seed, so every
// instance of every build computes the same score. Safe for concurrent
// use; it allocates nothing.
func Score(member, backend string) uint64 {
	h := hash64.AddString(hash64.Offset, backend)
	// A 0 byte between the two (h ^= 0 is a no-op), so ("ab", "c") and
	// ("a", "bc") hash differently.
	h *= hash64.Prime
	return hash64.Mix(hash64.AddString(h, member))
}

// Owners returns the r members that own backend's checks: the r members
// with the highest Score(member, backend) (rendezvous, or
// highest-random-weight, hashing), highest first; all of members when
// there are r or fewer; none when r <= 0. Equal scores rank the member
// that sorts first higher. members should hold each name once (as
// Membership.Members does); it is not modified. The result is a new
// slice. Safe for concurrent use.
//
// Because each member's score for a backend does not depend on the other
// members, a member that leaves hands only the backends it owned to
// others (each gains one new owner, the next in rank), and a member that
// joins takes only the backends where it ranks in the top r.
func Owners(backend string, members []string, r int) []string {
	return AppendOwners(make([]string, 0, max(0, min(r, len(members)))), backend, members, r)
}

// AppendOwners is Owners appending to dst and returning the extended
// slice. It allocates nothing when dst has room for the owners and
// r <= 16.
func AppendOwners(dst []string, backend string, members []string, r int) []string {
	if r <= 0 || len(members) == 0 {
		return dst
	}
	r = min(r, len(members))
	var stack [16]uint64
	var scores []uint64
	if r <= len(stack) {
		scores = stack[:0]
	} else {
		scores = make([]uint64, 0, r)
	}
	base := len(dst)
	for _, m := range members {
		s := Score(m, backend)
		n := len(scores)
		if n == r && !outranks(s, m, scores[n-1], dst[base+n-1]) {
			continue
		}
		// Find m's place among the kept owners, highest first.
		i := n
		for i > 0 && outranks(s, m, scores[i-1], dst[base+i-1]) {
			i--
		}
		if n < r {
			scores = append(scores, 0)
			dst = append(dst, "")
		}
		copy(scores[i+1:], scores[i:len(scores)-1])
		copy(dst[base+i+1:], dst[base+i:len(dst)-1])
		scores[i], dst[base+i] = s, m
	}
	return dst
}

// outranks reports whether member a with score sa ranks above member b
// with score sb.
func outranks(sa uint64, a string, sb uint64, b string) bool {
	if sa != sb {
		return sa > sb
	}
	return a < b
}

// sortedUnique returns names sorted with duplicates removed, in place.
func sortedUnique(names []string) []string {
	slices.Sort(names)
	return slices.Compact(names)
}
