package demo

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/lbtrust/lb/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }

func startDemo(t *testing.T) *Backend {
	t.Helper()
	b, err := Start("127.0.0.1:0", "d1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func dial(t *testing.T, b *Backend) (*websocket.Conn, *http.Response) {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws://"+b.Addr()+WebSocketPath, &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(2 * MaxWebSocketFrame)
	t.Cleanup(func() { c.CloseNow() })
	return c, resp
}

// TestWebSocketEcho talks to the demo echo with a real client library:
// every message size class of the framing, both message types, and the
// close handshake.
func TestWebSocketEcho(t *testing.T) {
	b := startDemo(t)
	c, resp := dial(t, b)
	if got := resp.Header.Get(HeaderBackend); got != "d1" {
		t.Errorf("101 X-Backend %q, want d1", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, msg := range []struct {
		typ  websocket.MessageType
		body string
	}{
		{websocket.MessageText, ""},
		{websocket.MessageText, "hello"},
		{websocket.MessageBinary, strings.Repeat("x", 125)},
		{websocket.MessageBinary, strings.Repeat("y", 126)},
		{websocket.MessageText, strings.Repeat("z", 70000)},
	} {
		if err := c.Write(ctx, msg.typ, []byte(msg.body)); err != nil {
			t.Fatal(err)
		}
		typ, got, err := c.Read(ctx)
		if err != nil || typ != msg.typ || string(got) != msg.body {
			t.Fatalf("echo of %d bytes: %v %d bytes, %v", len(msg.body), typ, len(got), err)
		}
	}
	if err := c.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Errorf("close handshake: %v", err)
	}
}

// TestWebSocketTooBig: a frame over MaxWebSocketFrame ends the socket
// with 1009.
func TestWebSocketTooBig(t *testing.T) {
	b := startDemo(t)
	c, _ := dial(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c.Write(ctx, websocket.MessageBinary, make([]byte, MaxWebSocketFrame+1))
	_, _, err := c.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Errorf("got %v, want close 1009", err)
	}
}

// TestWebSocketBadHandshake: a plain GET on /ws is a 400.
func TestWebSocketBadHandshake(t *testing.T) {
	b := startDemo(t)
	resp, err := http.Get("http://" + b.Addr() + WebSocketPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want 400", resp.StatusCode)
	}
}

// TestCloseEndsWebSockets: Close ends open sockets (no goroutine left).
func TestCloseEndsWebSockets(t *testing.T) {
	b, err := Start("127.0.0.1:0", "d1")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := dial(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Read(ctx); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if _, _, err := c.Read(ctx); err == nil || ctx.Err() != nil {
		t.Errorf("socket still open after Close: %v", err)
	}
}
