package proxy

import (
	"errors"
	"time"

	"github.com/lbtrust/lb/accesslog"
	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
	"go.uber.org/zap"
)

// exchange is what forwarding one client request did, for the access
// log (accesslog.go) and tests. It lives on the stack.
type exchange struct {
	// backend is the last backend tried, whose result the client got
	// (unless an earlier 5xx answer was kept); nil when none was tried.
	backend *pool.Backend
	// retries is how many tries followed the first (0..Attempts),
	// rescues included.
	retries int
	// rescued says whether a try was moved off a backend that stopped
	// answering (rescue.go).
	rescued bool
	// why are the reasons of the first retries (constants).
	why [accesslog.MaxRetries]string
	// waited is the time spent in tries, up to each answer's header.
	waited time.Duration
	// bytesIn are the request body bytes taken from the client.
	bytesIn int64
	// failed says the client got the LB's error for fail, not an answer.
	failed bool
	fail   failure
	// stream is the answer relayed after the handler returns, which logs
	// itself when it ends; tunnel likewise for an upgrade.
	stream *stream
	tunnel *tunnel
}

// retry notes one more try, after one that failed for why.
func (ex *exchange) retry(why string) {
	if ex.retries < len(ex.why) {
		ex.why[ex.retries] = why
	}
	ex.retries++
}

// failWith notes that the client gets the LB's error for f.
func (ex *exchange) failWith(f failure) { ex.failed, ex.fail = true, f }

// forward sends the request in ctx to a backend of up, retrying on other
// backends as up.retry allows, and writes the answer (or the JSON error)
// into ctx.Response. Every Acquire is matched by exactly one Release
// before it returns, or, for an answer whose body is streamed, by the
// stream's EndStream when fasthttp closes it. The outbound request is a
// pooled copy of the client's header with the body takeBody chose: read
// whole (every try sends the same bytes) or streamed from the client
// (a try after a byte of it was sent is not made); it is released
// before forward returns, and roundTrip is synchronous (connection
// deadlines, no helper goroutine), so nothing refers to ctx or its
// buffers afterwards but a stream, which holds the client connection
// only. Retries happen only before the answer is chosen: a streamed
// answer stands (even a 5xx one), since its header goes to the client
// as soon as the handler returns. It allocates nothing on a request that
// succeeds at the first try with a buffered answer.
func (h *Handler) forward(ctx *fasthttp.RequestCtx, up *upstream) (ex exchange) {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	prepareRequest(req, ctx, h.trustedPeer(ctx))
	up.stripSticky(req)
	body, err := h.takeBody(ctx, up.idle)
	if err != nil {
		h.refuseBody(ctx, err)
		ex.failWith(failClientBody)
		return ex
	}
	defer body.free()
	if body.up == nil {
		req.SetBodyRaw(body.body)
		ex.bytesIn = int64(len(body.body))
	}

	resp := &ctx.Response
	// An HTTP/1.0 client may send no Host; each backend then gets its own
	// address, as HTTP/1.1 requires a Host.
	hostless := len(req.Header.Host()) == 0
	rp := &up.retry
	// One reading of the clock per request and one per try: the request
	// began when fasthttp read it for the handler (ctx.Time; a context
	// fasthttp did not serve has none), and each try ends at
	// times.ended, which the pool and the duration observer take as
	// they are.
	now := ctx.Time()
	if now.IsZero() {
		now = time.Now()
	}
	times := tryTimes{idle: up.idle, wait: up.header}
	defer up.observe(now, &times.ended)

	// kept is the last 5xx answer that was retried, returned if no later
	// try gets an answer.
	var kept *fasthttp.Response
	defer releaseKept(&kept)

	// rsc holds the backends the request has tried (avoid), and what a
	// rescue needs (rescue.go); it lives on the stack.
	var rsc rescue
	avoid := &rsc.avoid
	deadline, b := up.begin(ctx, now, avoid)
	if b == nil {
		ex.failWith(failNoBackend)
		return ex
	}
	// A request whose body is read whole may be rescued from a backend
	// that stops answering while it waits, if it is replayable (judged
	// only then: rescue.take).
	var rs *rescue
	if rp.attempts > 0 && body.up == nil {
		rsc.up, rsc.deadline, rsc.hdr = up, deadline, &ctx.Request.Header
		rs = &rsc
	}
	if up.perTry > 0 {
		times.wait = up.perTry
	}
	if up.total > 0 {
		times.end = now.Add(up.total)
	}
	for attempt := 1; ; attempt++ {
		ex.backend = b
		if hostless {
			req.Header.SetHost(b.Address())
		}
		times.header = deadline
		if up.perTry > 0 {
			if d := now.Add(up.perTry); d.Before(deadline) {
				times.header = d
			}
		}
		if rs != nil {
			rs.from, rs.attempt, rs.next = b, attempt, nil
		}
		times.start = now
		f, status, s, err := try(b, req, body.up, resp, &times, rs)
		ex.waited += times.ended.Sub(times.start)
		if body.up != nil {
			ex.bytesIn = body.up.taken()
		}
		switch f {
		case failClientBody:
			h.refuseBody(ctx, err)
			ex.failWith(failClientBody)
			return ex
		case failRescued:
			ex.retry("rescued")
			ex.rescued = true
			h.logRescue(up, b, rs.next, ex.retries)
			b, now = rs.next, times.ended
			continue
		}

		var cond retryOn
		var reached bool
		if err == nil {
			if s != nil {
				h.streamAnswer(ctx, up, b, s)
				ex.stream = s
				return ex // a streamed answer stands
			}
			cond = statusCondition(status)
			switch {
			case cond&rp.on != 0:
				cond &= rp.on
			case cond != 0 && b.Failing():
				cond = onFailing
			default:
				return ex // the answer stands
			}
			reached = true
		} else {
			cond, reached = f.condition()
		}
		now = times.ended
		// A streamed body cannot be sent again once a byte of it went.
		replay := replayable(&ctx.Request.Header) && (body.up == nil || !body.up.sent)
		if !rp.allows(cond, reached, attempt, !reached || replay) || !now.Before(deadline) {
			ex.settle(resp, up, f, err, kept)
			return ex
		}
		next, overBudget := up.retryTarget(now, avoid, b, false)
		if next == nil {
			if overBudget {
				h.logRetry("retry refused by budget", up, b, f, status, err, ex.retries)
			}
			ex.settle(resp, up, f, err, kept)
			return ex
		}
		if err == nil {
			if kept == nil {
				kept = fasthttp.AcquireResponse()
			}
			resp.CopyTo(kept)
		}
		ex.retry(retryReason(f, status, err))
		h.logRetry("retrying on another backend", up, b, f, status, err, ex.retries)
		b = next
	}
}

// observe records the duration of a client request that started at
// start in the upstream's Duration observer, if any: until *end, when its
// last try ended, or until now when it made none.
func (up *upstream) observe(start time.Time, end *time.Time) {
	if up.duration == nil {
		return
	}
	e := *end
	if e.IsZero() {
		e = time.Now()
	}
	up.duration.Observe(e.Sub(start).Seconds())
}

// begin starts the client request ctx on up at now: it counts it in up's
// retry budget (when up retries at all), acquires its first backend (its
// sticky session's, or the pool's pick for its key: up.first), and
// returns the deadline of the answer's header (now plus the header
// timeout) and
// that backend. When no backend is eligible it notes it, leaves the 503
// answer in ctx.Response and returns a nil backend.
func (up *upstream) begin(ctx *fasthttp.RequestCtx, now time.Time, avoid *pool.Avoid) (time.Time, *pool.Backend) {
	if up.retry.attempts > 0 {
		up.budget.noteRequest(now)
	}
	b := up.first(ctx, avoid, now)
	if b == nil {
		up.pool.NoteNoBackend()
		writeError(&ctx.Response, failNoBackend.status(), up.errs[failNoBackend])
	}
	return now.Add(up.header), b
}

// retryTarget picks the backend to retry on after a failed try at b, at
// now, once the retry policy has allowed it: nil with overBudget when
// up's retry budget refuses (counted in the pool), nil when no backend is
// left that the request has not tried (avoid, which b joins), else the
// next backend, with the retry counted in the budget and the pool. A
// rescue (healthyOnly) goes to a HEALTHY backend only, whatever the
// routing mode (pool.Pool.AcquireHealthyAt).
func (up *upstream) retryTarget(now time.Time, avoid *pool.Avoid, b *pool.Backend, healthyOnly bool) (next *pool.Backend, overBudget bool) {
	if !up.budget.allow(now, up.retry.budgetPct) {
		up.pool.NoteRetryRefused()
		return nil, true
	}
	avoid.Add(b)
	if healthyOnly {
		next = up.pool.AcquireHealthyAt(avoid, now)
	} else {
		next = up.pool.AcquireAt(avoid, now)
	}
	if next != nil {
		up.budget.noteRetry(now)
		up.pool.NoteRetry()
	}
	return next, false
}

// settle is settle, noting in ex when the client gets the LB's error.
func (ex *exchange) settle(resp *fasthttp.Response, up *upstream, f failure, err error, kept *fasthttp.Response) {
	if err != nil && kept == nil {
		ex.failWith(f)
	}
	settle(resp, up, f, err, kept)
}

// settle leaves the final result of a request whose last try is not
// retried in resp: the backend's answer when the try got one (err nil,
// already in resp), else the last 5xx answer kept from an earlier try,
// else the JSON error of f.
func settle(resp *fasthttp.Response, up *upstream, f failure, err error, kept *fasthttp.Response) {
	switch {
	case err == nil:
	case kept != nil:
		kept.CopyTo(resp)
	default:
		writeError(resp, f.status(), up.errs[f])
	}
}

func releaseKept(kept **fasthttp.Response) {
	if *kept != nil {
		fasthttp.ReleaseResponse(*kept)
	}
}

// logRetry writes the debug line of a retry made or refused after a try
// at b that failed with f and err, or answered status (err nil).
func (h *Handler) logRetry(msg string, up *upstream, b *pool.Backend, f failure, status int, err error, retry int) {
	ce := h.log.Check(zap.DebugLevel, msg)
	if ce == nil {
		return
	}
	if err == nil {
		ce.Write(
			zap.String("listener", h.name),
			zap.String("pool", up.pool.Name()),
			zap.String("backend", b.Address()),
			zap.String("failure", "status"),
			zap.Int("status", status),
			zap.Int("retry", retry),
		)
		return
	}
	ce.Write(
		zap.String("listener", h.name),
		zap.String("pool", up.pool.Name()),
		zap.String("backend", b.Address()),
		zap.String("failure", f.String()),
		zap.Error(err),
		zap.Int("retry", retry),
	)
}

// logRescue writes the debug line of a request moved from a backend
// that stopped answering to another (see rescue).
func (h *Handler) logRescue(up *upstream, from, to *pool.Backend, retry int) {
	if ce := h.log.Check(zap.DebugLevel, "request rescued from a backend that stopped answering"); ce != nil {
		ce.Write(
			zap.String("listener", h.name),
			zap.String("pool", up.pool.Name()),
			zap.String("backend", from.Address()),
			zap.String("to", to.Address()),
			zap.Int("retry", retry),
		)
	}
}

// try sends req to b once (with its body streamed from upload when that
// is not nil), started at t.start and bounded by t, and on an
// answer returns its status and leaves its header, cleaned of hop-by-hop
// fields, in resp, with its body when it was read whole. b is released
// with the outcome and the time the try took (a 5xx answer as
// pool.RequestServerError, a timeout as pool.RequestTimeout) at t.ended,
// when the try ended (the one reading of the clock it makes), except for
// an answer whose body is to be streamed: that is returned as a stream,
// counted on b with pool.Backend.StartStream, and the caller must hand it
// to the client (Handler.streamAnswer), whose end releases b.
//
// r, when not nil, makes the try rescuable (see rescue): a try moved to
// another backend ends with failRescued, counted on b (NoteRescued), and
// r.next is the backend the request moved to, already acquired.
func try(b *pool.Backend, req *fasthttp.Request, upload *upload, resp *fasthttp.Response, t *tryTimes, r *rescue) (failure, int, *stream, error) {
	c, ok := b.Attached().(*BackendClient)
	if !ok {
		t.ended = time.Now()
		b.Release(pool.RequestLocal, 0)
		return failUnwired, 0, nil, errUnwired
	}
	s, err := c.roundTrip(req, upload, resp, t, r)
	t.ended = time.Now()
	latency := t.ended.Sub(t.start)
	if err != nil {
		f := classify(err)
		if f == failRescued {
			b.NoteRescued()
		}
		b.ReleaseAt(f.outcome(), latency, t.ended)
		return f, 0, nil, err
	}
	status := resp.StatusCode()
	b.NoteStatus(status)
	o := pool.RequestOK
	if status >= 500 {
		o = pool.RequestServerError
	}
	if s != nil {
		b.StartStream(o, latency)
	} else {
		b.ReleaseAt(o, latency, t.ended)
	}
	cleanResponse(&resp.Header)
	return 0, status, s, nil
}

// refuseBody answers a request whose body the client failed to send (a
// *clientBodyError from takeBody or a streamed upload) as the listener
// answers a body it cannot read: 413 for one over max_request_body_size,
// 408 for a client that stalled, 400 otherwise, with Connection: close,
// counted in the listener's refusals and logged at debug level.
func (h *Handler) refuseBody(ctx *fasthttp.RequestCtx, err error) {
	r := RejectBadRequest
	var cbe *clientBodyError
	if errors.As(err, &cbe) {
		r = cbe.r
	}
	status, body := rejectAnswer(r)
	writeError(&ctx.Response, status, body)
	ctx.SetConnectionClose()
	h.rejects.Add(r)
	if ce := h.log.Check(zap.DebugLevel, "client refused"); ce != nil {
		ce.Write(zap.Stringer("reason", r), zap.String("listener", h.name),
			zap.Stringer("remote", ctx.RemoteAddr()), zap.Error(err))
	}
}

// streamAnswer hands s, the answer of b, to the client as resp's body
// stream: fasthttp sends the header as soon as the handler returns (it is
// flushed at once, without waiting for body bytes), then relays the body
// (see stream) and closes s when done. An HTTP/1.0 client cannot read a
// chunked body: one without a length is sent to it as HTTP/1.0 frames
// it, up to the connection's close (stream.untilClose).
func (h *Handler) streamAnswer(ctx *fasthttp.RequestCtx, up *upstream, b *pool.Backend, s *stream) {
	up.stick(ctx, b) // before an HTTP/1.0 client's header is rendered
	s.start(h, up.pool.Name(), b, ctx.Conn())
	resp := &ctx.Response
	if !ctx.Request.Header.IsHTTP11() && s.contentLength() < 0 {
		s.untilClose(ctx)
		return
	}
	resp.SetBodyStream(s.bodyStream(), s.contentLength())
	resp.ImmediateHeaderFlush = true
}
