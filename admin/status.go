package admin

import (
	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
)

// statusBody is the JSON body of /status.
type statusBody struct {
	Version       string            `json:"version"`
	UptimeSeconds int64             `json:"uptime_seconds"`
	ShuttingDown  bool              `json:"shutting_down"`
	Listeners     []ListenerState   `json:"listeners"`
	Pools         []pool.PoolStatus `json:"pools"`
	// LastReload is the latest reload attempt; null before the first.
	LastReload *ReloadStatus `json:"last_reload"`
}

// serveStatus writes every listener, pool and backend with its state and
// why.
func (h *Handler) serveStatus(ctx *fasthttp.RequestCtx) {
	b := statusBody{
		Version:       h.o.Version,
		UptimeSeconds: h.uptime(),
		ShuttingDown:  h.ShuttingDown(),
		Listeners:     h.o.Listeners(),
		Pools:         []pool.PoolStatus{},
	}
	if r := h.o.Reloads(); !r.At.IsZero() {
		b.LastReload = &r
	}
	if b.Listeners == nil {
		b.Listeners = []ListenerState{}
	}
	for i := range b.Listeners {
		if b.Listeners[i].Rejections == nil {
			b.Listeners[i].Rejections = map[string]uint64{}
		}
	}
	for _, p := range h.o.Pools() {
		b.Pools = append(b.Pools, p.Status())
	}
	writeJSON(ctx, h.o.Log, fasthttp.StatusOK, b)
}
