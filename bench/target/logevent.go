package target

import (
	"encoding/json"
	"regexp"
	"strings"
	"time"
)

// LBEvent is a backend state change the load balancer under test
// reported, in its log or its status API.
type LBEvent struct {
	At     time.Time // when it happened (when the line was read, if it has no time)
	Ref    string    // the backend as the LB names it: an address, or a server name
	From   string    // previous state, when known
	To     string    // new state, lower case ("healthy", "unhealthy", "down", "up", ...)
	Reason string    // the LB's reason or explanation, when given
}

// zapTimeLayout is the ISO 8601 layout of lb's JSON log (-log-format json).
const zapTimeLayout = "2006-01-02T15:04:05.000Z0700"

// haproxyServer matches HAProxy's server state lines, as printed on
// stderr in the foreground ("[WARNING]  (42) : Server be/b1 is DOWN,
// reason: ...") or logged ("Server be/b1 is UP, reason: ...").
var haproxyServer = regexp.MustCompile(`Server ([^/\s]+)/(\S+) is (UP|DOWN|going DOWN for maintenance|DRAIN)(?:, reason: ([^,]*))?`)

// ParseLogLine recognizes a backend state change in one line of the load
// balancer's output: lb's JSON log ("backend state changed") or HAProxy's
// server UP/DOWN messages. now stamps lines that carry no time of their
// own. It reports false for any other line.
func ParseLogLine(line string, now time.Time) (LBEvent, bool) {
	if strings.HasPrefix(line, "{") && strings.Contains(line, "backend state changed") {
		var l struct {
			TS      string `json:"ts"`
			Msg     string `json:"msg"`
			Backend string `json:"backend"`
			From    string `json:"from"`
			To      string `json:"to"`
			Reason  string `json:"reason"`
		}
		if json.Unmarshal([]byte(line), &l) != nil || l.Msg != "backend state changed" {
			return LBEvent{}, false
		}
		at, err := time.Parse(zapTimeLayout, l.TS)
		if err != nil {
			at = now
		}
		return LBEvent{At: at, Ref: l.Backend, From: l.From, To: l.To, Reason: l.Reason}, true
	}
	if m := haproxyServer.FindStringSubmatch(line); m != nil {
		to := strings.ToLower(m[3])
		switch to {
		case "going down for maintenance":
			to = "maint"
		case "drain":
			to = "drain"
		}
		return LBEvent{At: now, Ref: m[2], To: to, Reason: strings.TrimSpace(m[4])}, true
	}
	return LBEvent{}, false
}
