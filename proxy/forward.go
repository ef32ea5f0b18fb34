package proxy

import (
	"time"

	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
	"go.uber.org/zap"
)

// forward sends the request in ctx to a backend of up and writes the
// answer (or the JSON error) into ctx.Response. Every Acquire is matched
// by exactly one Release before it returns. The outbound request is a
// pooled copy of the client's header sharing its body; it is released
// before forward returns, and HostClient.DoDeadline is synchronous in
// fasthttp v1.78 (it uses connection deadlines, no helper goroutine), so
// nothing refers to ctx or its buffers afterwards.
func (h *Handler) forward(ctx *fasthttp.RequestCtx, up *upstream) {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	prepareRequest(req, ctx)

	resp := &ctx.Response
	idempotent := ctx.IsGet() || ctx.IsHead()
	// An HTTP/1.0 client may send no Host; each backend then gets its own
	// address, as HTTP/1.1 requires a Host.
	hostless := len(req.Header.Host()) == 0
	deadline := time.Now().Add(up.timeout)
	var avoid pool.Avoid
	last := failNoBackend
	for attempt := 1; ; attempt++ {
		b := up.pool.Acquire(&avoid)
		if b == nil {
			// Nothing (else) to try: the first failure, or the pool is
			// empty.
			writeError(resp, last.status(), up.errs[last])
			return
		}
		if hostless {
			req.Header.SetHost(b.Address())
		}
		f, err := try(b, req, resp, deadline)
		if err == nil {
			return
		}
		last = f
		if !h.retry.again(f, idempotent, attempt) {
			writeError(resp, f.status(), up.errs[f])
			return
		}
		avoid.Add(b)
		if ce := h.log.Check(zap.DebugLevel, "retrying on another backend"); ce != nil {
			ce.Write(
				zap.String("listener", h.name),
				zap.String("pool", up.pool.Name()),
				zap.String("backend", b.Address()),
				zap.String("failure", f.String()),
				zap.Error(err),
			)
		}
	}
}

// try sends req to b once, releases b with the outcome, and on success
// leaves the backend's answer, cleaned of hop-by-hop fields, in resp.
func try(b *pool.Backend, req *fasthttp.Request, resp *fasthttp.Response, deadline time.Time) (failure, error) {
	c, ok := b.Attached().(*BackendClient)
	if !ok {
		b.Release(pool.RequestLocal, 0)
		return failUnwired, errUnwired
	}
	err := c.hc.DoDeadline(req, resp, deadline)
	if err != nil {
		f := classify(err)
		b.Release(f.outcome(), 0)
		return f, err
	}
	if resp.StatusCode() >= 500 {
		b.Release(pool.RequestServerError, 0)
	} else {
		b.Release(pool.RequestOK, 0)
	}
	cleanResponse(&resp.Header)
	return 0, nil
}
