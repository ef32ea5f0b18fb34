package proxy

import (
	"bufio"
	"context"
	"errors"
	"net"
	"time"

	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
)

// hdrUpgrade is the Upgrade header (RFC 9110 section 7.8).
const hdrUpgrade = "Upgrade"

// shuttingDownBody answers an upgrade that arrives once the listener's
// shutdown has begun (503).
const shuttingDownBody = `{"error":"shutting down: no new upgraded connections"}`

// errUpgradeShutdown is the error of an upgrade refused because the
// listener is shutting down.
var errUpgradeShutdown = errors.New("proxy: listener shutting down")

// wantsTunnel reports whether a request asks to switch protocols in a
// way the proxy passes through: HTTP/1.1, a Connection header with the
// "upgrade" token and an Upgrade header that does not name h2c (token
// lists and names compared case-insensitively). h2c is never passed
// through: it would turn the backend connection into HTTP/2 that carries
// requests the proxy neither routes nor sees ("h2c smuggling"); such a
// request is forwarded as a plain one, its Upgrade header stripped like
// any hop-by-hop field, and the backend answers it over HTTP/1.1. It does
// not allocate.
func wantsTunnel(h *fasthttp.RequestHeader) bool {
	if !h.IsHTTP11() {
		return false
	}
	var connUpgrade, upgrade bool
	for k, v := range h.All() {
		switch {
		case equalFold(k, hdrConnection):
			connUpgrade = connUpgrade || hasToken(v, "upgrade")
		case equalFold(k, hdrUpgrade):
			if hasToken(v, "h2c") {
				return false
			}
			upgrade = upgrade || len(trimOWS(v)) > 0
		}
	}
	return connUpgrade && upgrade
}

// hasToken reports whether the comma-separated list holds tok, ignoring
// case and optional whitespace; a token's "/version" suffix is ignored
// ("h2c/1" names h2c). It does not allocate.
func hasToken(list []byte, tok string) bool {
	for len(list) > 0 {
		i := 0
		for i < len(list) && list[i] != ',' {
			i++
		}
		t := trimOWS(list[:i])
		for j := range t {
			if t[j] == '/' {
				t = t[:j]
				break
			}
		}
		if equalFold(t, tok) {
			return true
		}
		if i == len(list) {
			break
		}
		list = list[i+1:]
	}
	return false
}

// upgradeValue is the request's Upgrade header value (several fields
// joined with ", ").
func upgradeValue(h *fasthttp.RequestHeader) string {
	var out []byte
	for k, v := range h.All() {
		if equalFold(k, hdrUpgrade) {
			if len(out) > 0 {
				out = append(out, ", "...)
			}
			out = append(out, trimOWS(v)...)
		}
	}
	return string(out)
}

// upgrade passes a protocol upgrade (a WebSocket handshake) through to one
// backend of up. The backend is picked like any request's (never a
// draining one) and the request is sent on a new connection of its own,
// with Connection: Upgrade and the client's Upgrade header kept and
// X-Forwarded-* set as for any request. A connect failure is retried on
// another backend as up's retry policy and budget allow; nothing else is.
// If the backend answers 101 Switching Protocols within up's response
// timeout, the client connection is hijacked and spliced to the backend
// connection (see tunnel); any other answer is relayed like a normal
// response (hop-by-hop fields stripped) and the connection stays an HTTP
// one. Errors are the JSON answers forward gives (502, 503, 504). It
// returns what it did, for the access log.
func (h *Handler) upgrade(ctx *fasthttp.RequestCtx, up *upstream) (ex exchange) {
	resp := &ctx.Response
	if h.upgrades.isClosed() {
		writeError(resp, fasthttp.StatusServiceUnavailable, shuttingDownBody)
		ex.failWith(failNoBackend)
		return ex
	}
	proto := upgradeValue(&ctx.Request.Header)
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	prepareRequest(req, ctx, h.trustedPeer(ctx))
	body, err := h.takeBody(ctx, up.idle)
	if err == nil && body.up != nil {
		// An upgrade's body is sent whole with its handshake.
		err = &clientBodyError{errUploadTooLarge, RejectBodyTooLarge}
	}
	if err != nil {
		body.free()
		h.refuseBody(ctx, err)
		ex.failWith(failClientBody)
		return ex
	}
	defer body.free()
	req.SetBodyRaw(body.body)
	req.Header.Set(hdrConnection, "Upgrade")
	req.Header.Set(hdrUpgrade, proto)
	hostless := len(req.Header.Host()) == 0

	rp := &up.retry
	now := time.Now()
	var end time.Time // zero: the duration ends when upgrade returns
	defer up.observe(now, &end)
	var avoid pool.Avoid
	deadline, b := up.begin(ctx, now, &avoid)
	if b == nil {
		ex.failWith(failNoBackend)
		return ex
	}
	for attempt := 1; ; attempt++ {
		ex.backend = b
		if hostless {
			req.Header.SetHost(b.Address())
		}
		tryStart := time.Now()
		t, f, err := h.handshake(b, req, resp, up, proto, now, deadline)
		ex.waited += time.Since(tryStart)
		if err == nil {
			if t != nil {
				ctx.HijackSetNoResponse(true)
				ctx.Hijack(t.run)
				ex.tunnel = t
			}
			return ex
		}
		cond, reached := f.condition()
		now = time.Now()
		if reached || !rp.allows(cond, false, attempt, true) || !now.Before(deadline) {
			writeError(resp, f.status(), up.errs[f])
			ex.failWith(f)
			return ex
		}
		next, overBudget := up.retryTarget(now, &avoid, b, false)
		if next == nil {
			if overBudget {
				h.logRetry("upgrade retry refused by budget", up, b, f, 0, err, attempt-1)
			}
			writeError(resp, f.status(), up.errs[f])
			ex.failWith(f)
			return ex
		}
		ex.retry(f.String())
		h.logRetry("retrying upgrade on another backend", up, b, f, 0, err, attempt)
		b = next
	}
}

// handshake sends the upgrade request req to b, which Acquire counted,
// on a new connection, and reads its answer into resp. On 101 it returns
// the tunnel to run, registered with b's client and h, holding b's slot
// (pool.Backend.Upgraded); on any other answer it returns (nil, 0, nil)
// with the answer, cleaned, in resp and b released. On an error, b is
// released with the failure's outcome and nothing is in resp.
func (h *Handler) handshake(b *pool.Backend, req *fasthttp.Request, resp *fasthttp.Response,
	up *upstream, proto string, start, deadline time.Time) (*tunnel, failure, error) {
	c, ok := b.Attached().(*BackendClient)
	if !ok {
		b.Release(pool.RequestLocal, 0)
		return nil, failUnwired, errUnwired
	}
	// The place is reserved before the dial, so concurrent handshakes
	// never hold more than maxConns between them; the tunnel gives it
	// back when it ends (tunnel.finish), every other path here at once.
	if !c.tunnelSlots.take(c.maxConns) {
		b.Release(pool.RequestLocal, 0)
		return nil, failSaturated, fasthttp.ErrNoFreeConns
	}
	conn, err := c.dialTunnel(deadline)
	if err != nil {
		c.tunnelSlots.give()
		f := classify(err)
		b.Release(f.outcome(), time.Since(start))
		return nil, f, err
	}
	fail := func(err error) (*tunnel, failure, error) {
		conn.Close()
		c.tunnelSlots.give()
		resp.Reset()
		f := classify(err)
		b.Release(f.outcome(), time.Since(start))
		return nil, f, err
	}
	conn.SetDeadline(deadline)
	if _, err := req.WriteTo(conn); err != nil {
		return fail(err)
	}
	br := bufio.NewReaderSize(conn, backendReadBufferSize)
	if err := resp.Read(br); err != nil {
		return fail(err)
	}
	latency := time.Since(start)
	status := resp.StatusCode()
	b.NoteStatus(status)
	if status != fasthttp.StatusSwitchingProtocols {
		conn.Close()
		c.tunnelSlots.give()
		if status >= 500 {
			b.Release(pool.RequestServerError, latency)
		} else {
			b.Release(pool.RequestOK, latency)
		}
		cleanResponse(&resp.Header)
		return nil, 0, nil
	}
	conn.SetDeadline(time.Time{})
	b.Upgraded(latency)
	t := &tunnel{
		log: h.log, listener: h.name, poolName: up.pool.Name(), protocol: proto,
		backend: b, owner: c, handler: &h.upgrades, idle: h.upgradeIdle(),
		started: time.Now(), bconn: conn, br: br, head: switchHead(withRequestID(&resp.Header, &req.Header)),
	}
	resp.Reset()
	c.tunnels.add(t)
	if !h.upgrades.add(t) {
		// The listener began shutting down during the handshake.
		t.close(causeShutdown)
		writeError(resp, fasthttp.StatusServiceUnavailable, shuttingDownBody)
		return nil, 0, nil
	}
	return t, 0, nil
}

// switchHead renders the 101 answer for the client from the backend's:
// its status message and end-to-end fields, then Connection: Upgrade and
// the backend's Upgrade header.
func switchHead(h *fasthttp.ResponseHeader) []byte {
	var upgrade []byte
	for k, v := range h.All() {
		if equalFold(k, hdrUpgrade) && upgrade == nil {
			upgrade = append([]byte(nil), trimOWS(v)...)
		}
	}
	cleanResponse(h)
	msg := h.StatusMessage()
	if len(msg) == 0 {
		msg = []byte("Switching Protocols")
	}
	out := append([]byte("HTTP/1.1 101 "), msg...)
	out = append(out, "\r\n"...)
	for k, v := range h.All() {
		out = append(append(append(append(out, k...), ": "...), v...), "\r\n"...)
	}
	out = append(out, "Connection: Upgrade\r\n"...)
	if len(upgrade) > 0 {
		out = append(append(append(out, "Upgrade: "...), upgrade...), "\r\n"...)
	}
	return append(out, "\r\n"...)
}

// dialTunnel opens a new connection to the backend for an upgraded
// connection, with the client's connect timeout, bounded by deadline.
// It is not pooled and not counted in OpenConns.
func (c *BackendClient) dialTunnel(deadline time.Time) (net.Conn, error) {
	d := time.Until(deadline)
	if d <= 0 {
		return nil, &dialError{err: errDeadline, timeout: true}
	}
	return c.dial(c.address, d)
}

// errDeadline is a dial not attempted because the request's time was up.
var errDeadline = errors.New("response timeout reached before connecting")

// upgradeIdle is the idle timeout of the listener's upgraded connections.
func (h *Handler) upgradeIdle() time.Duration {
	if d := time.Duration(h.tunnelIdle.Load()); d > 0 {
		return d
	}
	return DefaultIdleTimeout
}

// UpgradedConns is the number of upgraded connections (WebSockets) open
// on the listener now. Safe for concurrent use.
func (h *Handler) UpgradedConns() int { return h.upgrades.len() }

// Streams is the number of streamed answers (see stream) open on the
// listener now. Safe for concurrent use.
func (h *Handler) Streams() int { return h.streams.len() }

// ShutdownLong ends the listener's long exchanges, upgraded connections
// (WebSockets) and streamed answers (Server-Sent Events, downloads), for
// the LB's shutdown: from the call on, a new upgrade is answered 503; the
// open ones may go on until ctx is done, and whatever is still open then
// is closed (one log line each, "websocket closed: shutdown grace period
// over" or "stream closed: ..."; a cut stream's client sees an incomplete
// answer). It returns when every one has ended, with the number it
// closed. Call it with the grace period's context, alongside the fasthttp
// server's Shutdown (which waits for neither). Safe for concurrent use.
func (h *Handler) ShutdownLong(ctx context.Context) int {
	h.upgrades.stop()
	upgradesDone := h.upgrades.waitEmpty(ctx)
	streamsDone := h.streams.waitEmpty(ctx)
	if upgradesDone && streamsDone {
		return 0
	}
	n := h.upgrades.closeAll(causeShutdown, true) + h.streams.closeAll(causeShutdown, true)
	// Closed connections end their copy loops at once.
	h.upgrades.waitEmpty(context.Background())
	h.streams.waitEmpty(context.Background())
	return n
}
