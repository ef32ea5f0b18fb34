package admin

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"

	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
	"go.uber.org/zap"
)

// statusBody is the JSON body of /status. Pools holds poolsMark when
// encoded: serveStatus writes the pools there itself.
type statusBody struct {
	Version       string          `json:"version"`
	UptimeSeconds int64           `json:"uptime_seconds"`
	ShuttingDown  bool            `json:"shutting_down"`
	Listeners     []ListenerState `json:"listeners"`
	// Pools are []pool.PoolStatus, written by writePools.
	Pools json.RawMessage `json:"pools"`
	// LastReload is the latest reload attempt; null before the first.
	LastReload *ReloadStatus `json:"last_reload"`
	// Fleet is this instance's place in its fleet; absent without one.
	Fleet *FleetState `json:"fleet,omitempty"`
}

// poolsMark stands for the pools in the encoded statusBody.
const poolsMark = `"\u0000pools"`

// statusBatch is how many backends one lock of their pool covers while
// /status is written (the lock is never held while the body is sent).
const statusBatch = 128

// serveStatus writes every listener, pool and backend with its state and
// why: the JSON an indented encoding of statusBody with its pools (a
// []pool.PoolStatus) would be, byte for byte. The body is streamed
// (chunked) as it is written, the backends read statusBatch at a time
// under their pool's lock into one buffer (pool.EachStatus), so an
// answer about 10,000 backends allocates about that buffer, not a
// BackendStatus and its encoding per backend. A pool's counts (eligible,
// healthy, mode) are read before its backends, so a transition during
// the answer may show in a backend's state but not in them.
func (h *Handler) serveStatus(ctx *fasthttp.RequestCtx) {
	b := statusBody{
		Version:       h.o.Version,
		UptimeSeconds: h.uptime(),
		ShuttingDown:  h.ShuttingDown(),
		Listeners:     h.o.Listeners(),
		Pools:         json.RawMessage(poolsMark),
	}
	if r := h.o.Reloads(); !r.At.IsZero() {
		b.LastReload = &r
	}
	if h.o.Fleet != nil {
		b.Fleet = h.o.Fleet()
	}
	if b.Listeners == nil {
		b.Listeners = []ListenerState{}
	}
	for i := range b.Listeners {
		if b.Listeners[i].Rejections == nil {
			b.Listeners[i].Rejections = map[string]uint64{}
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	err := enc.Encode(b)
	// No string can hold this unescaped: it is the "pools" field.
	js := buf.Bytes()
	at := bytes.Index(js, []byte(`"pools": `+poolsMark))
	if err != nil || at < 0 {
		h.o.Log.Error("admin: encoding answer", zap.Error(err))
		writeJSON(ctx, h.o.Log, fasthttp.StatusInternalServerError, errorBody{Error: "internal error"})
		return
	}
	at += len(`"pools": `)
	head, tail := js[:at], js[at+len(poolsMark):]
	pools := h.o.Pools()
	ctx.Response.Header.SetContentType("application/json")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetStatusCode(fasthttp.StatusOK)
	if ctx.IsHead() {
		return
	}
	log := h.o.Log
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		w.Write(head)
		if err := writePools(w, pools); err != nil {
			log.Debug("admin: /status cut short", zap.Error(err))
			return
		}
		w.Write(tail)
	})
}

// writePools writes pools as the "pools" value of statusBody, and returns
// the first error of w (the client went away) or of encoding a pool.
func writePools(w *bufio.Writer, pools []*pool.Pool) error {
	if len(pools) == 0 {
		_, err := w.WriteString("[]")
		return err
	}
	var (
		scratch = make([]byte, 0, 64<<10)
		batch   [statusBatch]*pool.Backend
		view    pool.StatusView
	)
	w.WriteByte('[')
	for i, p := range pools {
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteString("\n    ")
		sum := p.Summary()
		sum.Backends = []pool.BackendStatus{}
		js, err := json.MarshalIndent(sum, "    ", "  ")
		if err != nil {
			return err
		}
		// Backends is PoolStatus's last field: its [] is where the
		// backends go.
		at := bytes.LastIndex(js, []byte(`"backends": []`))
		if at < 0 {
			return errors.New(`admin: no "backends" in a pool's JSON`)
		}
		at += len(`"backends": [`)
		w.Write(js[:at])
		n, err := 0, error(nil)
		flush := func(k int) {
			scratch = scratch[:0]
			p.EachStatus(batch[:k], &view, func(v *pool.StatusView) {
				if n > 0 {
					scratch = append(scratch, ',')
				}
				n++
				scratch = append(scratch, "\n        "...)
				scratch = appendBackendJSON(scratch, &v.Status, "        ")
			})
			if _, werr := w.Write(scratch); werr != nil && err == nil {
				err = werr
			}
		}
		k := 0
		p.RangeBackends(func(b *pool.Backend) bool {
			batch[k] = b
			if k++; k == len(batch) {
				flush(k)
				k = 0
			}
			return err == nil
		})
		if k > 0 && err == nil {
			flush(k)
		}
		if err != nil {
			return err
		}
		if n > 0 {
			w.WriteString("\n      ")
		}
		if _, err := w.Write(js[at:]); err != nil {
			return err
		}
	}
	_, err := w.WriteString("\n  ]")
	return err
}
