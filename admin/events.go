package admin

import (
	"strconv"

	"github.com/lbtrust/lb/events"
	"github.com/valyala/fasthttp"
)

// EventSource is what GET /events reads: the recent events, newest first,
// at most limit of them (limit < 1: all kept), only those about backend
// when it is not empty. *events.Ring is one. It must be safe for
// concurrent use.
type EventSource interface {
	List(backend string, limit int) []events.Event
}

// eventsBody is the JSON body of GET /events.
type eventsBody struct {
	Events []events.Event `json:"events"`
}

// serveEvents answers GET /events with the recent events, newest first.
// Query parameters: backend=ADDR keeps only that backend's events (in any
// pool); limit=N returns at most N (default: every event kept). A limit
// that is not a positive integer is 400.
func (h *Handler) serveEvents(ctx *fasthttp.RequestCtx) {
	args := ctx.QueryArgs()
	backend := string(args.Peek("backend"))
	limit := 0
	if raw := args.Peek("limit"); len(raw) > 0 {
		n, err := strconv.Atoi(string(raw))
		if err != nil || n < 1 {
			writeJSON(ctx, h.o.Log, fasthttp.StatusBadRequest,
				errorBody{Error: "limit must be a positive integer, such as limit=50", Path: "/events"})
			return
		}
		limit = n
	}
	b := eventsBody{Events: []events.Event{}}
	if h.o.Events != nil {
		if l := h.o.Events.List(backend, limit); l != nil {
			b.Events = l
		}
	}
	writeJSON(ctx, h.o.Log, fasthttp.StatusOK, b)
}
