package fleet

import (
	"net/url"
	"strings"
)

// The fleet's keys under Config.Prefix. Pool names and backend addresses
// are path-escaped (url.PathEscape), so a "/" in either cannot split a
// key.
//
//	members/<member>                     value: the name; under the member's lease
//	verdicts/<pool>/<backend>/<member>   value: a Verdict in JSON; under the member's lease
//	drains/<pool>/<backend>              value: a Drain in JSON; no lease (an operator's act outlives the instance)
const (
	membersDir  = "members/"
	verdictsDir = "verdicts/"
	drainsDir   = "drains/"
)

// Target names one backend of one pool: what a verdict or a drain is
// about. It is comparable, for use as a map key.
type Target struct {
	Pool, Backend string
}

// targetPath is t's escaped "<pool>/<backend>".
func targetPath(t Target) string {
	return url.PathEscape(t.Pool) + "/" + url.PathEscape(t.Backend)
}

// verdictKey is the key of member's verdict on t under prefix.
func verdictKey(prefix string, t Target, member string) string {
	return prefix + verdictsDir + targetPath(t) + "/" + url.PathEscape(member)
}

// drainKey is the key of an operator's drain of t under prefix.
func drainKey(prefix string, t Target) string {
	return prefix + drainsDir + targetPath(t)
}

// keyKind is what a key under the prefix holds.
type keyKind int

const (
	keyOther keyKind = iota // not the fleet's, or malformed: ignored
	keyMember
	keyVerdict
	keyDrain
)

// parsedKey is a key under the prefix, taken apart.
type parsedKey struct {
	kind   keyKind
	target Target // verdicts and drains
	member string // members and verdicts
}

// parseKey takes key (under prefix) apart. A key that does not fit the
// layout is keyOther.
func parseKey(prefix, key string) parsedKey {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok {
		return parsedKey{}
	}
	switch {
	case strings.HasPrefix(rest, membersDir):
		name := rest[len(membersDir):]
		if name == "" || strings.Contains(name, "/") {
			return parsedKey{}
		}
		return parsedKey{kind: keyMember, member: name}
	case strings.HasPrefix(rest, verdictsDir):
		parts := strings.Split(rest[len(verdictsDir):], "/")
		if len(parts) != 3 {
			return parsedKey{}
		}
		p, errP := url.PathUnescape(parts[0])
		b, errB := url.PathUnescape(parts[1])
		m, errM := url.PathUnescape(parts[2])
		if errP != nil || errB != nil || errM != nil || p == "" || b == "" || m == "" {
			return parsedKey{}
		}
		return parsedKey{kind: keyVerdict, target: Target{p, b}, member: m}
	case strings.HasPrefix(rest, drainsDir):
		parts := strings.Split(rest[len(drainsDir):], "/")
		if len(parts) != 2 {
			return parsedKey{}
		}
		p, errP := url.PathUnescape(parts[0])
		b, errB := url.PathUnescape(parts[1])
		if errP != nil || errB != nil || p == "" || b == "" {
			return parsedKey{}
		}
		return parsedKey{kind: keyDrain, target: Target{p, b}}
	}
	return parsedKey{}
}
