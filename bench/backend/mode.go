package backend

import "fmt"

// Mode is a fault a running backend can be switched into through its
// control endpoint (POST /_fault?mode=NAME). The zero value is ModeNone.
type Mode uint32

const (
	// ModeNone: healthy, answers as configured.
	ModeNone Mode = iota
	// ModeErrors: every traffic request is answered 500 while /readyz
	// still says ok, the failure an active health check cannot see.
	ModeErrors
	// ModeSlow: traffic requests take SlowFactor times the configured
	// latency (at least SlowFactor milliseconds); /readyz stays fast.
	ModeSlow
	// ModeFlap: /readyz alternates between 503 and 200 every flap
	// period, starting with 503; traffic is served normally.
	ModeFlap
)

// SlowFactor is how much slower ModeSlow makes each traffic request.
const SlowFactor = 50

// String returns the mode's name as used on the control endpoint.
func (m Mode) String() string {
	switch m {
	case ModeNone:
		return "none"
	case ModeErrors:
		return "errors"
	case ModeSlow:
		return "slow"
	case ModeFlap:
		return "flap"
	}
	return fmt.Sprintf("mode(%d)", uint32(m))
}

// ParseMode returns the mode named s: none, errors, slow or flap.
func ParseMode(s string) (Mode, error) {
	for _, m := range []Mode{ModeNone, ModeErrors, ModeSlow, ModeFlap} {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("unknown fault mode %q: want none, errors, slow or flap", s)
}
