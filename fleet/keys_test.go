package fleet

import "testing"

func TestParseKey(t *testing.T) {
	const prefix = "/lb/fleet/prod/"
	for _, tc := range []struct {
		key  string
		want parsedKey
	}{
		{prefix + "members/lb-1", parsedKey{kind: keyMember, member: "lb-1"}},
		{prefix + "members/", parsedKey{}},
		{prefix + "members/a/b", parsedKey{}},
		{prefix + "verdicts/web/127.0.0.1:9001/lb-2", parsedKey{kind: keyVerdict, target: Target{"web", "127.0.0.1:9001"}, member: "lb-2"}},
		{prefix + "verdicts/a%2Fb/%5B::1%5D:80/lb-2", parsedKey{kind: keyVerdict, target: Target{"a/b", "[::1]:80"}, member: "lb-2"}},
		{prefix + "verdicts/web/127.0.0.1:9001", parsedKey{}},
		{prefix + "verdicts/web//lb-2", parsedKey{}},
		{prefix + "verdicts/web/x/lb-2/extra", parsedKey{}},
		{prefix + "verdicts/web/%zz/lb-2", parsedKey{}},
		{prefix + "drains/web/127.0.0.1:9001", parsedKey{kind: keyDrain, target: Target{"web", "127.0.0.1:9001"}}},
		{prefix + "drains/web", parsedKey{}},
		{prefix + "other/x", parsedKey{}},
		{"/elsewhere/members/lb-1", parsedKey{}},
	} {
		if got := parseKey(prefix, tc.key); got != tc.want {
			t.Errorf("parseKey(%q) = %+v, want %+v", tc.key, got, tc.want)
		}
	}
}

// TestKeysRoundTrip: what verdictKey and drainKey write, parseKey reads
// back, whatever the pool and address hold.
func TestKeysRoundTrip(t *testing.T) {
	const prefix = "/p/"
	for _, tg := range []Target{{"web", "127.0.0.1:9001"}, {"a/b", "[::1]:80"}, {"sp ace", "h%41:1"}} {
		if got := parseKey(prefix, verdictKey(prefix, tg, "lb/1")); got.kind != keyVerdict || got.target != tg || got.member != "lb/1" {
			t.Errorf("verdict key of %+v: parsed %+v", tg, got)
		}
		if got := parseKey(prefix, drainKey(prefix, tg)); got.kind != keyDrain || got.target != tg {
			t.Errorf("drain key of %+v: parsed %+v", tg, got)
		}
	}
}
