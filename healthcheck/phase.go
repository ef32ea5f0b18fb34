package healthcheck

import "time"

// How probes are placed in time.
//
// Every checker of a Group probes on a fixed phase of its interval: at
// epoch + phase + m × interval for whole m, where epoch is the Group's
// creation and phase is the k-th point of the golden-ratio sequence
// frac(k × 0.618…) × interval for the k-th checker started with that
// interval. That low-discrepancy sequence spreads any number of checkers
// evenly over the interval (n points split it into gaps of at most three
// sizes, the largest under 2.7 × the smallest), and new checkers fall into
// the largest gaps, so a thousand backends checked every second see about
// one probe per millisecond, not a thousand in the same one. Phases are
// anchored, so checkers never drift into step (the job the old ±10% jitter
// did) and each backend sees its probes exactly one interval apart.
//
// The first probe of a checker comes at once when the Group's early-probe
// allowance has a token (a backend added on its own, a small pool: it can
// take traffic within milliseconds), and at its phase slot otherwise (the
// start-up of ten thousand backends, or a reload that restarts them all:
// their first probes spread over one interval like every later one,
// HAProxy's way). The allowance holds earlyBurst tokens and refills at the
// Group's own steady probe rate, so early probes at most double the probe
// rate for a moment.

// goldenFraction is frac((√5−1)/2)·2⁶⁴, the step of the phase sequence in
// fixed point: k·goldenFraction mod 2⁶⁴ is frac(k × 0.618…) scaled to 2⁶⁴.
const goldenFraction uint64 = 0x9E3779B97F4A7C15

// earlyBurst is how many checkers may probe at once on start before the
// rest wait for their phase slot.
const earlyBurst = 64

// phaseOf returns the k-th checker's offset within interval: frac(k ×
// 0.618…) × interval, in [0, interval).
func phaseOf(k uint64, interval time.Duration) time.Duration {
	frac := float64(k*goldenFraction) / (1 << 64)
	return min(time.Duration(frac*float64(interval)), interval-1)
}

// ticksPerInterval is how many batches an interval's probes are grouped
// into (see tickOf).
const ticksPerInterval = 20

// tickOf is the grid a checker's probe times are rounded up to: a
// twentieth of its interval (50ms for 1s, 500ms for the default 10s),
// between 1ms and 1s. Probes due in the same tick share one timer wakeup
// (the runtime runs every expired timer in one pass) and their answers
// arrive together too. On a machine where waking a thread costs more than
// a probe, that batching is most of the saving: 1,000 backends every 1s
// cost 10% of a core probed one by one and 4% in 50ms batches; 100 backends
// every 10s, 0.77% one by one and 0.2% in 500ms batches. Twenty batches
// per interval still spread the probes evenly: each holds a twentieth of
// them, give or take the golden-ratio sequence's small unevenness.
func tickOf(interval time.Duration) time.Duration {
	return max(min(time.Second, interval/ticksPerInterval), time.Millisecond)
}

// slotAt returns the first time at or after t of the form epoch + phase
// + m × interval (m any integer), rounded up to the tick grid of interval
// anchored at epoch.
func slotAt(epoch time.Time, phase, interval time.Duration, t time.Time) time.Time {
	d := t.Sub(epoch) - phase
	m := d / interval
	if m*interval < d {
		m++
	}
	return epoch.Add(ceilTo(phase+m*interval, tickOf(interval)))
}

// ceilTo rounds d up to a multiple of tick.
func ceilTo(d, tick time.Duration) time.Duration {
	q := d / tick
	if q*tick < d {
		q++
	}
	return q * tick
}

// nextSlot returns when the probe after one that started at start begins:
// the first slot at least half an interval after start, so exactly one
// interval later in steady state, and never twice in quick succession
// after an early first probe.
func nextSlot(epoch time.Time, phase, interval time.Duration, start time.Time) time.Time {
	return slotAt(epoch, phase, interval, start.Add(interval/2))
}

// allowance is the token bucket of early first probes. Not safe for
// concurrent use: the Group guards it.
type allowance struct {
	tokens float64   // available early probes, at most earlyBurst
	at     time.Time // when tokens was last brought up to date
	rate   float64   // refill per second: the steady probe rate of the running checkers
}

// take brings the bucket up to now and spends a token if there is one.
func (a *allowance) take(now time.Time) bool {
	if a.at.IsZero() {
		a.tokens = earlyBurst
	} else {
		a.tokens = min(earlyBurst, a.tokens+now.Sub(a.at).Seconds()*a.rate)
	}
	a.at = now
	if a.tokens < 1 {
		return false
	}
	a.tokens--
	return true
}
