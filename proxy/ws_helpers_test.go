package proxy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/lbtrust/lb/pool"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// wsBackend is a WebSocket echo server (github.com/coder/websocket on
// net/http) on a loopback port. Its 101 answers carry X-Backend: name.
// A text message "bye" makes it close the socket with StatusGoingAway.
type wsBackend struct {
	name, addr string
	accepted   atomic.Int64
	mu         sync.Mutex
	conns      map[*websocket.Conn]bool
	wg         sync.WaitGroup
	// header records each handshake request's headers.
	header chan http.Header
}

func startWSBackend(t *testing.T, name string) *wsBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &wsBackend{name: name, addr: ln.Addr().String(), conns: map[*websocket.Conn]bool{},
		header: make(chan http.Header, 16)}
	srv := &http.Server{Handler: http.HandlerFunc(b.serve)}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		<-done
		b.mu.Lock()
		for c := range b.conns {
			c.CloseNow()
		}
		b.mu.Unlock()
		b.wg.Wait()
	})
	return b
}

func (b *wsBackend) serve(w http.ResponseWriter, r *http.Request) {
	b.wg.Add(1)
	defer b.wg.Done()
	select {
	case b.header <- r.Header.Clone():
	default:
	}
	w.Header().Set("X-Backend", b.name)
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	b.accepted.Add(1)
	b.mu.Lock()
	b.conns[c] = true
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.conns, c)
		b.mu.Unlock()
		c.CloseNow()
	}()
	c.SetReadLimit(4 << 20)
	ctx := context.Background()
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		if typ == websocket.MessageText && string(msg) == "bye" {
			c.Close(websocket.StatusGoingAway, "bye")
			return
		}
		if err := c.Write(ctx, typ, msg); err != nil {
			return
		}
	}
}

// dialWS opens a WebSocket to addr through a client of its own (no
// kept-alive connection survives the test) and returns it with the name
// of the backend that accepted it.
func dialWS(t *testing.T, addr string) (*websocket.Conn, string) {
	t.Helper()
	c, resp, err := tryDialWS(t, addr)
	if err != nil {
		t.Fatalf("dial ws://%s: %v", addr, err)
	}
	return c, resp.Header.Get("X-Backend")
}

func tryDialWS(t *testing.T, addr string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws://"+addr+"/chat", &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		return nil, resp, err
	}
	c.SetReadLimit(4 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return c, resp, nil
}

// echo sends msg and wants it back within a generous deadline.
func echo(t *testing.T, c *websocket.Conn, typ websocket.MessageType, msg string) {
	t.Helper()
	if err := tryEcho(c, typ, msg); err != nil {
		t.Fatalf("echo %.20q: %v", msg, err)
	}
}

func tryEcho(c *websocket.Conn, typ websocket.MessageType, msg string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Write(ctx, typ, []byte(msg)); err != nil {
		return err
	}
	gt, got, err := c.Read(ctx)
	if err != nil {
		return err
	}
	if gt != typ || string(got) != msg {
		return errors.New("echo mismatch: got " + string(got[:min(len(got), 20)]))
	}
	return nil
}

// waitClosed waits (generously) for the LB or backend to end c and
// returns the error its Read got.
func waitClosed(t *testing.T, c *websocket.Conn) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatal("socket still open after 30s")
			}
			return err
		}
	}
}

// eventually polls cond until it holds or 20s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// backendNamed finds the backend of p at address.
func backendNamed(t *testing.T, p *pool.Pool, address string) *pool.Backend {
	t.Helper()
	for _, b := range p.Backends() {
		if b.Address() == address {
			return b
		}
	}
	t.Fatalf("no backend %s", address)
	return nil
}

// observedLogger logs into an observer, from debug level.
func observedLogger() (*zap.Logger, *observer.ObservedLogs) {
	core, logs := observer.New(zap.DebugLevel)
	return zap.New(core), logs
}
