package proxy

import (
	"errors"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
)

// A request already waiting on a backend that stops answering is not left
// there. When the pool holds the backend out for not answering its
// traffic (UNHEALTHY with reason silent or passive_ejection, see
// pool.Backend.Rescuable), every try still waiting on it for the answer's
// header that may safely be sent again (a replayable request whose body
// was read whole) is woken, its connection closed (never reused), and the
// request sent to another backend at once: a rescue. It is a retry like
// any other (it takes one of the request's retry attempts, must fit the
// retry budget and the request's time left, and goes to a backend the
// request has not tried, a HEALTHY one) but needs no retry condition: the try did not
// fail, it was given up. Nothing of the abandoned try reached the client,
// so one answer only ever does. A try that may not be replayed (a POST
// without Idempotency-Key, a streamed upload) keeps waiting, as does one
// the budget or the attempts do not allow.
//
// The mechanics are lock-free on the request path: a rescuable try marks
// its connection waiting (one atomic store) once the request is written,
// and clears it when the header has arrived; the sweep (RescueWaiting),
// run when the backend is held out, flips waiting connections to woken
// and sets their read deadline to the past, which wakes the read.

// Waiting states of a trackedConn. A waker (the sweep, or arm) moves
// waitArmed to waitWaking, sets the read deadline to the past, then
// stores waitWoken; the try never acts on the connection while it is
// waitWaking (settleWait), so a wake can never land on a later read.
const (
	waitNone   uint32 = iota // no rescuable try is waiting on the connection
	waitArmed                // a rescuable try waits for the answer's header
	waitWaking               // a waker is setting the read deadline
	waitWoken                // the try was woken to move it
)

// errRescued is the error of a try abandoned because its request was
// moved to another backend (rescue.next).
var errRescued = errors.New("proxy: request rescued from a backend that stopped answering")

// wakeNow is a read deadline in the past: it makes a blocked read return
// at once with a timeout.
var wakeNow = time.Unix(1, 0)

// rescue is one request's readiness to be moved off the backend of its
// current try. forward keeps it on its stack and updates from and attempt
// for each try; take decides a move when the try is woken.
type rescue struct {
	up *upstream
	// avoid is the backends the request has tried (forward's, kept
	// here so that it stays on the stack).
	avoid pool.Avoid
	// hdr is the client request's header, for replayable.
	hdr *fasthttp.RequestHeader
	// from is the backend of the current try; attempt counts the tries
	// made, that one included; deadline is the request's header deadline.
	from     *pool.Backend
	attempt  int
	deadline time.Time
	// next is where take moved the request (acquired, counted as a
	// retry), nil until then.
	next *pool.Backend
}

// take moves the request off r.from if it may be: it is replayable (an
// idempotent method or an Idempotency-Key), a retry attempt and time are
// left, the retry budget allows one more, and another backend the
// request has not tried is HEALTHY (in panic or fail-open routing, the
// UNHEALTHY backends the pool also routes to are not rescue targets).
// It reports whether it did (then r.next is that backend, acquired).
func (r *rescue) take() bool {
	now := time.Now()
	if r.attempt > r.up.retry.attempts || !now.Before(r.deadline) || !replayable(r.hdr) {
		return false
	}
	next, _ := r.up.retryTarget(now, &r.avoid, r.from, true)
	if next == nil {
		return false
	}
	r.next = next
	return true
}

// arm marks tc as carrying a rescuable try that now waits for its answer,
// and, if r.from is already held out (it was judged between the pick and
// now, or the sweep ran before the mark), wakes the try itself, as the
// sweep would have.
func (r *rescue) arm(tc *trackedConn) {
	tc.waiting.Store(waitArmed)
	if r.from.Rescuable() {
		tc.wake(nil)
	}
}

// wake wakes the rescuable try waiting on t, if one is, and reports
// whether it did. sw, when not nil, is the sweep it is part of: the try
// reports to it whether it moved (rescueSweep.decided).
func (t *trackedConn) wake(sw *rescueSweep) bool {
	if !t.waiting.CompareAndSwap(waitArmed, waitWaking) {
		return false
	}
	t.sweep = sw
	if sw != nil {
		sw.pending.Add(1)
	}
	_ = t.Conn.SetReadDeadline(wakeNow)
	t.waiting.Store(waitWoken)
	return true
}

// settleWait waits out a waker that is setting t's read deadline (a
// few instructions away) and returns the waiting state then.
func (t *trackedConn) settleWait() uint32 {
	for {
		if s := t.waiting.Load(); s != waitWaking {
			return s
		}
		runtime.Gosched()
	}
}

// decided tells the sweep that woke the try on t, if any, whether the
// request moved, and leaves t in state next. Call it only in state
// waitWoken.
func (t *trackedConn) decided(moved bool, next uint32) {
	sw := t.sweep
	t.sweep = nil
	t.waiting.Store(next)
	if sw != nil {
		sw.decided(moved)
	}
}

// endWait ends the wait of a rescuable try on t whose answer's header
// arrived (or whose try ended otherwise): a waker that raced with the
// answer is waited out, so its deadline lands before the try sets its
// next one, its sweep is told the request did not move, and t is left
// unmarked.
func (t *trackedConn) endWait() {
	if t.settleWait() == waitWoken {
		t.decided(false, waitNone)
		return
	}
	t.waiting.Store(waitNone)
}

// woken decides what a try does after reading the answer's header on tc
// failed with err, the read deadline being deadline, r nil for a try
// that is not rescuable. It returns true when the try is to read again
// (the deadline re-armed): the wake was the sweep's and the request may
// not move now, or a stray wake (a sweep aimed at the connection's
// previous try) came before the deadline. Otherwise it returns the error
// the try ends with: errRescued when the request moved (r.next).
func woken(tc *trackedConn, r *rescue, err error, deadline time.Time) (again bool, _ error) {
	if !timedOut(err) {
		return false, err
	}
	if r != nil && tc.settleWait() == waitWoken {
		if r.take() {
			tc.decided(true, waitNone)
			return false, errRescued
		}
		tc.decided(false, waitArmed) // a later sweep may try again
	} else if !time.Now().Before(deadline) {
		return false, err
	}
	if tc.Conn.SetReadDeadline(deadline) != nil {
		return false, err
	}
	return true, nil
}

// timedOut reports whether err is, or wraps, a timeout (fasthttp's
// ErrTimeout included, which is not a net.Error).
func timedOut(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// rescueSweep counts what the tries one RescueWaiting woke decided, and
// reports it once the last has.
type rescueSweep struct {
	// pending is the woken tries that have not decided yet, plus one
	// for the sweep itself until it has woken them all.
	pending, woken, rescued atomic.Int32
	done                    func(woken, rescued int)
}

// decided counts one decision (the sweep's own when it is done waking),
// and calls done after the last.
func (s *rescueSweep) decided(moved bool) {
	if moved {
		s.rescued.Add(1)
	}
	if s.pending.Add(-1) == 0 && s.done != nil {
		s.done(int(s.woken.Load()), int(s.rescued.Load()))
	}
}

// RescueWaiting wakes every try waiting for an answer's header from the
// backend whose body was read whole, so that each moves to another
// backend if it may (or goes back to waiting), and returns how many it
// woke. done, when not nil, is called once every woken try has decided,
// with how many were woken and how many moved, on the goroutine of the
// last to decide (a request's, or the caller's when none was woken or
// all decided at once): it must not block. Call it when the backend is
// held out for not answering its traffic (see pool.Backend.Rescuable);
// each try also counts its own rescue (pool.Backend.NoteRescued). It
// takes the connection set's lock, sets read deadlines and returns
// without waiting. Safe for concurrent use.
func (c *BackendClient) RescueWaiting(done func(woken, rescued int)) int {
	sw := &rescueSweep{done: done}
	sw.pending.Store(1)
	c.mu.Lock()
	n := 0
	for t := range c.conns {
		if t.wake(sw) {
			n++
		}
	}
	c.mu.Unlock()
	sw.woken.Store(int32(n))
	sw.decided(false)
	return n
}
