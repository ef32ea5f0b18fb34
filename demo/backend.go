// Package demo is a small HTTP backend for the quick start, the end-to-end
// tests and benchmarks: it tags every answer with its name, serves a
// /readyz health endpoint, echoes WebSockets on /ws, serves the streaming
// endpoints of package stream (/bytes, /sse, /upload: large, cut, paced
// and endless answers, streamed uploads), and can announce a graceful
// shutdown the way the load balancer expects (503
// {"status":"shutting_down"}).
package demo

import (
	"crypto/tls"
	"encoding/json"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lbtrust/lb/demo/stream"
	"github.com/valyala/fasthttp"
	"go.uber.org/zap"
)

// HeaderBackend is the response header naming the backend that answered.
const HeaderBackend = "X-Backend"

// MaxSleep bounds the ?sleep= delay a request may ask for.
const MaxSleep = time.Minute

// Backend is one demo backend server. Safe for concurrent use.
type Backend struct {
	name     string
	srv      *fasthttp.Server
	ln       net.Listener
	done     chan struct{}
	draining atomic.Bool
	failing  atomic.Bool
	served   atomic.Uint64
	streams  *stream.Handler

	// sockets are the open WebSockets (websocket.go), closed by Close.
	mu      sync.Mutex
	sockets map[net.Conn]bool // nil once closed
	echoes  sync.WaitGroup
}

// Options are the optional settings of StartWith. The zero value is a
// plain HTTP backend named after its address that drops its connection
// errors.
type Options struct {
	// Name tags every answer (default: the bound address).
	Name string

	// TLS, if not nil, makes the backend accept TLS only, with this
	// server configuration (it must hold a certificate). The backend does
	// not modify it. Nil serves plain HTTP.
	TLS *tls.Config

	// Log receives the server's connection errors (a client that speaks
	// TLS to a plain backend, a failed handshake, a malformed request) at
	// debug level. Nil drops them.
	Log *zap.Logger
}

// Start listens on address (host:port; port 0 picks a free one) and serves
// plain HTTP until Close. name tags every answer (default: the bound
// address). It is StartWith(address, Options{Name: name}).
func Start(address, name string) (*Backend, error) {
	return StartWith(address, Options{Name: name})
}

// StartWith listens on address (host:port; port 0 picks a free one) and
// serves with o until Close.
func StartWith(address string, o Options) (*Backend, error) {
	ln, err := net.Listen("tcp", address)
	if err != nil {
		return nil, err
	}
	name := o.Name
	if name == "" {
		name = ln.Addr().String()
	}
	b := &Backend{name: name, ln: ln, done: make(chan struct{}), sockets: map[net.Conn]bool{}, streams: stream.NewHandler()}
	b.srv = &fasthttp.Server{
		Handler:     b.serve,
		Name:        "lb-demo-backend",
		IdleTimeout: 90 * time.Second,
		Logger:      serverLogger{log: o.Log, name: name},
	}
	// Request bodies are streamed to the handler (for /upload); the other
	// endpoints ignore them and fasthttp discards them.
	stream.ConfigureServer(b.srv)
	served := ln
	if o.TLS != nil {
		served = tls.NewListener(ln, o.TLS)
	}
	go func() {
		defer close(b.done)
		b.srv.Serve(served)
	}()
	return b, nil
}

// Addr is the bound address.
func (b *Backend) Addr() string { return b.ln.Addr().String() }

// Name is the tag the backend puts on its answers.
func (b *Backend) Name() string { return b.name }

// Served is how many non-health requests the backend answered.
func (b *Backend) Served() uint64 { return b.served.Load() }

// Drain makes /readyz answer 503 {"status":"shutting_down"} from now on,
// while ordinary requests are still served.
func (b *Backend) Drain() { b.draining.Store(true) }

// Close ends the streams (SSE, paced and cut bodies; see
// stream.Handler.Close), stops accepting, waits for in-flight requests
// (a plain /bytes download runs to its end), closes the open WebSockets,
// and returns when the server, every echo and every stream writer have
// stopped.
func (b *Backend) Close() error {
	b.streams.Close()
	err := b.srv.Shutdown()
	// A Shutdown that runs before Serve has registered the listener (a
	// Close right after Start) does not close it; Serve would then accept
	// forever.
	b.ln.Close()
	<-b.done
	b.mu.Lock()
	for c := range b.sockets {
		c.Close()
	}
	b.sockets = nil
	b.mu.Unlock()
	b.echoes.Wait()
	b.streams.Wait()
	return err
}

// track registers an open WebSocket, unless the backend is closed.
func (b *Backend) track(c net.Conn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sockets == nil {
		return false
	}
	b.sockets[c] = true
	b.echoes.Add(1)
	return true
}

// untrack forgets an ended WebSocket.
func (b *Backend) untrack(c net.Conn) {
	b.mu.Lock()
	delete(b.sockets, c)
	b.mu.Unlock()
	b.echoes.Done()
}

// serve answers /readyz with the backend's health, WebSocketPath with a
// WebSocket echo (see serveWebSocket), stream.PathBytes, stream.PathSSE
// and stream.PathUpload as package stream says, and everything else with
// a small JSON document describing the request, after the delay its
// ?sleep= query asks for (a Go duration such as "1s", at most MaxSleep).
// POST /_fault?mode=errors makes it answer 500 to everything but /readyz
// (a backend that fails traffic while its health check says ok);
// mode=none ends that.
func (b *Backend) serve(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.Set(HeaderBackend, b.name)
	ctx.SetContentType("application/json")
	if string(ctx.Path()) == "/readyz" {
		if b.draining.Load() {
			ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
			ctx.SetBodyString(`{"status":"shutting_down"}`)
			return
		}
		ctx.SetBodyString(`{"status":"ok"}`)
		return
	}
	if string(ctx.Path()) == WebSocketPath {
		b.serveWebSocket(ctx)
		return
	}
	if string(ctx.Path()) == "/_fault" && ctx.IsPost() {
		b.failing.Store(string(ctx.QueryArgs().Peek("mode")) == "errors")
		ctx.SetBodyString(`{"ok":true}`)
		return
	}
	b.served.Add(1)
	if b.failing.Load() {
		ctx.SetStatusCode(fasthttp.StatusInternalServerError)
		ctx.SetBodyString(`{"error":"injected fault"}`)
		return
	}
	if b.streams.Serve(ctx) {
		return
	}
	if d, err := time.ParseDuration(string(ctx.QueryArgs().Peek("sleep"))); err == nil && d > 0 {
		time.Sleep(min(d, MaxSleep))
	}
	body, _ := json.Marshal(struct {
		Backend       string `json:"backend"`
		Method        string `json:"method"`
		Path          string `json:"path"`
		XForwardedFor string `json:"x_forwarded_for"`
	}{b.name, string(ctx.Method()), string(ctx.RequestURI()), string(ctx.Request.Header.Peek("X-Forwarded-For"))})
	ctx.SetBody(append(body, '\n'))
}
