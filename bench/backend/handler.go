package backend

import (
	"encoding/json"
	"time"

	"github.com/valyala/fasthttp"
)

// serve dispatches one request: health, fault control, the streaming
// endpoints or traffic.
func (s *Server) serve(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.Set(HeaderBackend, s.opts.Name)
	switch string(ctx.Path()) {
	case "/readyz":
		s.serveReadyz(ctx)
	case "/_fault":
		s.serveFault(ctx)
	default:
		if s.streams.Serve(ctx) {
			s.served.Add(1)
			return
		}
		s.serveTraffic(ctx)
	}
}

// serveReadyz answers the health check: draining wins over flapping.
func (s *Server) serveReadyz(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("application/json")
	switch {
	case s.draining.Load():
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
		ctx.SetBodyString(`{"status":"shutting_down"}`)
	case s.Mode() == ModeFlap && s.flapFailing(time.Now()):
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
		ctx.SetBodyString(`{"status":"degraded"}`)
	default:
		ctx.SetBodyString(`{"status":"ok"}`)
	}
}

// flapFailing reports whether a flap cycle is in its failing half at now:
// failing for one period from the switch, then ok for one, and so on.
func (s *Server) flapFailing(now time.Time) bool {
	elapsed := now.Sub(time.Unix(0, s.modeAt.Load()))
	return (elapsed/s.opts.FlapPeriod)%2 == 0
}

// serveFault reads (GET) or switches (POST ?mode=NAME) the fault mode.
func (s *Server) serveFault(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("application/json")
	if ctx.IsPost() {
		m, err := ParseMode(string(ctx.QueryArgs().Peek("mode")))
		if err != nil {
			ctx.SetStatusCode(fasthttp.StatusBadRequest)
			msg, _ := json.Marshal(map[string]string{"error": err.Error()})
			ctx.SetBody(msg)
			return
		}
		s.SetMode(m)
	} else if !ctx.IsGet() {
		ctx.SetStatusCode(fasthttp.StatusMethodNotAllowed)
		return
	}
	ctx.SetBodyString(`{"mode":"` + s.Mode().String() + `"}`)
}

// serveTraffic answers an ordinary request after the configured latency
// (times SlowFactor in ModeSlow): 200 with the configured body, or 500 in
// ModeErrors.
func (s *Server) serveTraffic(ctx *fasthttp.RequestCtx) {
	s.served.Add(1)
	mode := s.Mode()
	d := s.opts.Latency
	if mode == ModeSlow {
		d = SlowFactor * max(d, time.Millisecond)
	}
	if d > 0 {
		time.Sleep(d)
	}
	if mode == ModeErrors {
		ctx.SetStatusCode(fasthttp.StatusInternalServerError)
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"error":"injected fault"}`)
		return
	}
	ctx.SetContentType("text/plain")
	ctx.SetBody(s.body)
}
