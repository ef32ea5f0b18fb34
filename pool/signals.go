package pool

import (
	"fmt"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// signals holds a pool's request-path health state that is not per
// backend: the latency estimate and the thresholds the request path reads
// without the pool's lock.
type signals struct {
	latency latencyHistogram
	// silentAfter is the silence that counts now, in ns (<= 0: off).
	silentAfter atomic.Int64
	// ejectFailures and ejectTimeouts are the passive thresholds (0: off).
	ejectFailures, ejectTimeouts atomic.Int64
}

// observe takes one request outcome on b, which came at now (zero: read
// the clock): lock-free unless it changes a state.
func (s *signals) observe(b *Backend, o RequestOutcome, latency time.Duration, now time.Time) {
	p := b.pool
	if o.answered() {
		b.lastAnswer.Store(p.at(now))
		if latency > 0 {
			s.latency.record(latency)
		}
		if b.silent.Load() {
			p.answeredAgain(b)
		}
	}
	var failures, timeouts int64
	switch o {
	case RequestOK:
		if b.consecFailures.Load() != 0 {
			b.consecFailures.Store(0)
		}
		if b.consecTimeouts.Load() != 0 {
			b.consecTimeouts.Store(0)
		}
		return
	case RequestServerError, RequestTransportError:
		failures = b.consecFailures.Add(1)
		if b.consecTimeouts.Load() != 0 {
			b.consecTimeouts.Store(0)
		}
	case RequestTimeout:
		failures = b.consecFailures.Add(1)
		timeouts = b.consecTimeouts.Add(1)
	default:
		return
	}
	f, t := s.ejectFailures.Load(), s.ejectTimeouts.Load()
	switch {
	case t > 0 && timeouts >= t:
		p.eject(b, timeouts, "timeouts")
	case f > 0 && failures >= f:
		p.eject(b, failures, "failures")
	}
}

// eject takes a HEALTHY backend out for its ejection time (reason
// passive_ejection) after n failures of kind what ("failures",
// "timeouts") in a row, unless that would hold out more of the pool than
// max_ejected_percent allows. Once refused, it returns at once without
// the lock or an allocation until the pool changes (holdout.go).
func (p *Pool) eject(b *Backend, n int64, what string) {
	if p.holdOutRefused(b) {
		return
	}
	p.mu.Lock()
	if !p.mayHoldOutLocked(b) {
		p.mu.Unlock()
		return
	}
	pr := p.res.Passive
	now := time.Now()
	decayEjections(&b.m, pr.BaseEjection, now)
	d := min(pr.BaseEjection*time.Duration(b.m.ejections+1), pr.MaxEjection)
	detail := fmt.Sprintf("%d %s in a row; ejected for %s", n, what, d)
	c, _ := b.m.holdOut(ReasonPassiveEjection, detail, now.Add(d), now)
	b.consecFailures.Store(0)
	b.consecTimeouts.Store(0)
	p.applyLocked(b, c, 0)
	p.mu.Unlock()
	p.flush()
}

// decayEjections forgets one of m's past ejections for every base
// (base_ejection) that has passed since its last ejection ended, as
// Envoy's ejection multiplier decreases while a host stays in: a backend
// that failed once an hour ago is ejected for base_ejection again, not
// for longer at every fault it ever had (after 30 it would be out for
// max_ejection each time, for the rest of the process's life).
func decayEjections(m *machine, base time.Duration, now time.Time) {
	if m.ejections == 0 || m.ejectedUntil.IsZero() || base <= 0 {
		return
	}
	if in := now.Sub(m.ejectedUntil); in > 0 {
		m.ejections = max(m.ejections-int(in/base), 0)
	}
}

// silence takes a HEALTHY backend that answers nothing out (reason silent)
// until it answers, within max_ejected_percent (a refusal is remembered as
// eject's is).
func (p *Pool) silence(b *Backend, age, after time.Duration) {
	if p.holdOutRefused(b) {
		return
	}
	p.mu.Lock()
	if !p.mayHoldOutLocked(b) {
		p.mu.Unlock()
		return
	}
	detail := fmt.Sprintf("oldest unanswered request %s old (silent_after %s)", age.Round(time.Millisecond), after)
	c, _ := b.m.holdOut(ReasonSilent, detail, time.Time{}, time.Now())
	p.applyLocked(b, c, 0)
	p.mu.Unlock()
	p.flush()
}

// answeredAgain brings a silent backend back the moment it answers.
func (p *Pool) answeredAgain(b *Backend) {
	p.mu.Lock()
	c, ok := b.m.answered(time.Now())
	if ok = ok && !b.removed; ok {
		p.applyLocked(b, c, 0)
	}
	p.mu.Unlock()
	if ok {
		p.flush()
	}
}

// syncWatchdogLocked starts or stops the silent-detection watchdog to match
// the settings; the returned func waits for a stopped one (call it without
// the lock).
func (p *Pool) syncWatchdogLocked() (wait func()) {
	if p.res.Passive.Enabled {
		p.signals.ejectFailures.Store(int64(p.res.Passive.ConsecutiveFailures))
		p.signals.ejectTimeouts.Store(int64(p.res.Passive.ConsecutiveTimeouts))
	} else {
		p.signals.ejectFailures.Store(0)
		p.signals.ejectTimeouts.Store(0)
	}
	want := p.res.Silent.Enabled && !p.closed
	if want {
		after := p.res.Silent.After
		if after <= 0 {
			// Auto: the estimate so far, or the initial value until
			// there is one.
			after = SilentAfterInitial
			if cur := time.Duration(p.signals.silentAfter.Load()); cur > 0 {
				after = max(cur, SilentAfterFloor)
			}
		}
		p.signals.silentAfter.Store(int64(after))
	} else {
		p.signals.silentAfter.Store(0)
	}
	switch {
	case want && p.watchStop == nil:
		stop, done := make(chan struct{}), make(chan struct{})
		p.watchStop, p.watchDone = stop, done
		go p.watchdog(stop, done)
	case !want && p.watchStop != nil:
		close(p.watchStop)
		done := p.watchDone
		p.watchStop, p.watchDone = nil, nil
		return func() { <-done }
	}
	return func() {}
}

// watchdogTick is the shortest time between two looks of the watchdog
// for silent backends: it bounds how often it wakes however close the
// next possible verdict is.
const watchdogTick = 5 * time.Millisecond

// watchdog looks for silent backends and re-estimates the auto silence
// threshold every second, until stop is closed. It does not poll: after
// each look it sleeps until the earliest moment a backend could turn
// silent if nothing answers meanwhile (scanSilent's next), or the next
// estimate, whichever comes first, and at least watchdogTick. Under
// steady traffic with fast answers that is about silent_after from now,
// not every tick. When no eligible backend has a request waiting for an
// answer there is nothing to watch: it parks (no timer) until the next
// Acquire wakes it (wakeWatchdog), so an idle pool costs nothing.
func (p *Pool) watchdog(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTimer(watchdogTick)
	defer t.Stop()
	var prev [latencyBuckets]uint64
	lastEstimate, estimated := time.Now(), false
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		// Until the first estimate, look for enough answers more often,
		// so that SilentAfterInitial gives way to the pool's own latency
		// soon after traffic starts.
		every := time.Second
		if !estimated {
			every = firstEstimateEvery
		}
		if time.Since(lastEstimate) >= every {
			lastEstimate = time.Now()
			estimated = p.estimateSilentAfter(&prev) || estimated
		}
		next := p.scanSilent()
		if p.waiting() {
			t.Reset(p.watchdogSleep(next, time.Until(lastEstimate.Add(every))))
			continue
		}
		// Park, then look again: an Acquire that came before the flag
		// was up did not wake us, but its request is counted by now.
		p.watchParked.Store(true)
		if p.waiting() {
			// The timer has fired and was not reset: give it a time
			// again, or the loop would wait on it for ever (silent
			// detection off for the rest of the process).
			p.watchParked.Store(false)
			t.Reset(watchdogTick)
			continue
		}
		select {
		case <-stop:
			return
		case <-p.watchWake:
		}
		t.Reset(watchdogTick)
	}
}

// watchdogSleep is how long the watchdog sleeps after a look: until next
// (the pool clock's time a backend could first turn silent, 0 for none)
// or until the next estimate is due (estimateIn), whichever is sooner,
// never shorter than watchdogTick. With no candidate and no threshold
// (silent detection has nothing to judge: a panic or fail-open pool, a
// single backend) it looks again after the threshold or a second.
func (p *Pool) watchdogSleep(next int64, estimateIn time.Duration) time.Duration {
	d := estimateIn
	switch {
	case next > 0:
		d = min(d, time.Duration(next-p.now()))
	default:
		after := time.Duration(p.signals.silentAfter.Load())
		if after <= 0 {
			after = time.Second
		}
		d = min(d, after)
	}
	return max(d, watchdogTick)
}

// waiting reports whether an eligible backend has a request waiting for
// an answer (what the watchdog watches).
func (p *Pool) waiting() bool {
	for _, b := range p.snap.Load().backends {
		if b.requestsInFlight() > 0 {
			return true
		}
	}
	return false
}

// wakeWatchdog wakes a parked watchdog. Acquire calls it when it finds
// the watchdog parked: one atomic load per request otherwise.
func (p *Pool) wakeWatchdog() {
	if p.watchParked.CompareAndSwap(true, false) {
		select {
		case p.watchWake <- struct{}{}:
		default: // a wake is already pending
		}
	}
}

// firstEstimateEvery is how often the watchdog tries to make its first
// estimate of the auto threshold.
const firstEstimateEvery = 50 * time.Millisecond

// silentEstimateSamples is how many answers the auto threshold is
// estimated from at least: a quiet pool's answers add up over several
// seconds until there are this many.
const silentEstimateSamples = 20

// estimateSilentAfter updates the auto threshold from the answers since
// the last estimate (about a second's, more in a quiet pool: see
// silentEstimateSamples), and reports whether it did.
func (p *Pool) estimateSilentAfter(prev *[latencyBuckets]uint64) (estimated bool) {
	p99, n := p.signals.latency.quantileSince(prev, 0.99, silentEstimateSamples)
	p.mu.Lock()
	if !p.res.Silent.Enabled || p.res.Silent.After > 0 || n < silentEstimateSamples {
		p.mu.Unlock()
		return false
	}
	after := max(SilentAfterMultiplier*p99, SilentAfterFloor)
	old := time.Duration(p.signals.silentAfter.Swap(int64(after)))
	p.mu.Unlock()
	if old != after {
		p.log.Debug("silent_after re-estimated", zap.String("pool", p.name),
			zap.Duration("p99", p99), zap.Duration("silent_after", after))
	}
	return true
}

// scanSilent finds the eligible backend with the oldest unanswered request;
// if that is older than the threshold while another backend answered
// within it, the backend is taken out.
//
// It returns next, the pool clock's earliest time at which a backend with
// a request waiting could be judged silent if it answers nothing until
// then (0 when none could: nothing waits, or detection does not apply
// now), so the watchdog need not look before.
func (p *Pool) scanSilent() (next int64) {
	after := p.signals.silentAfter.Load()
	s := p.snap.Load()
	if after <= 0 || s.mode != modeNormal || len(s.backends) < 2 {
		return 0
	}
	now := p.now()
	othersAnswered := false
	var silent *Backend
	var oldest int64
	for _, b := range s.backends {
		last := b.lastAnswer.Load()
		inFlight := b.requestsInFlight() > 0 // else idle, or only upgraded connections (they wait for nothing)
		if last > 0 && now-last < after {
			othersAnswered = true
			if inFlight {
				next = earliest(next, max(last, b.busySince.Load())+after+1)
			}
			continue
		}
		if !inFlight {
			continue
		}
		since := max(last, b.busySince.Load())
		if age := now - since; age > after && age > oldest {
			silent, oldest = b, age
		} else if age <= after {
			next = earliest(next, since+after+1)
		}
	}
	if silent != nil && othersAnswered {
		p.silence(silent, time.Duration(oldest), time.Duration(after))
	}
	if silent != nil && !othersAnswered {
		// A verdict waits for another backend's answer, which may come
		// any moment: look again soon.
		next = earliest(next, now+1)
	}
	return next
}

// earliest is the sooner of two pool clock times, 0 being none.
func earliest(a, b int64) int64 {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}
