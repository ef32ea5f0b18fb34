package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/lbtrust/lb/demo"
	"github.com/lbtrust/lb/pool"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// dialWS opens a WebSocket to the LB's /ws and returns it with the demo
// backend that accepted it.
func dialWS(t *testing.T, lb *LB) (*websocket.Conn, string) {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws://"+lb.ListenerAddr("public").String()+demo.WebSocketPath,
		&websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c, resp.Header.Get(demo.HeaderBackend)
}

func wsEcho(c *websocket.Conn, msg string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		return err
	}
	_, got, err := c.Read(ctx)
	if err == nil && string(got) != msg {
		err = errors.New("echo mismatch: " + string(got))
	}
	return err
}

// wsClosed waits for the socket to be ended by the other side.
func wsClosed(t *testing.T, c *websocket.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatal("socket still open after 30s")
			}
			return
		}
	}
}

// runChat runs an LB with pool "chat" over two demo backends (b1, b2)
// and waits until both are HEALTHY.
func runChat(t *testing.T, deregistration string) (*LB, map[string]*demo.Backend, *observedLogs) {
	t.Helper()
	b1, b2 := startBackend(t, "b1"), startBackend(t, "b2")
	lb, _, logs := runFromFile(t, fmt.Sprintf(`
admin { address = "127.0.0.1:0" }
listener "public" {
  address = "127.0.0.1:0"
  pool    = "chat"
}
pool "chat" {
  algorithm            = "least_conn"
  deregistration_delay = %q
  health_check {
    interval = "200ms"
    timeout  = "100ms"
  }
  backend %q {}
  backend %q {}
}
`, deregistration, b1.Addr(), b2.Addr()))
	waitFor(t, "both backends healthy", func() bool { return lb.Pools()[0].Healthy() == 2 })
	return lb, map[string]*demo.Backend{"b1": b1, "b2": b2}, logs
}

// TestWebSocketDrainThroughAdmin: the whole LB: an operator drains the
// backend holding a socket; /status shows it in flight, the socket works
// until deregistration_delay, new sockets go to the other backend, and
// the LB then closes the old one with a log line.
func TestWebSocketDrainThroughAdmin(t *testing.T) {
	lb, backends, logs := runChat(t, "2s")
	c, name := dialWS(t, lb)
	if err := wsEcho(c, "hello"); err != nil {
		t.Fatal(err)
	}
	addr := backends[name].Addr()
	if st := statusOf(t, lb, addr); st.InFlight != 1 || st.Upgraded != 1 {
		t.Fatalf("/status in_flight %d upgraded %d, want 1 and 1", st.InFlight, st.Upgraded)
	}
	drainedAt := time.Now()
	if code, body := adminDo(t, http.MethodPost, "http://"+lb.AdminAddr().String()+"/pools/chat/backends/"+addr+"/drain", ""); code != 200 {
		t.Fatalf("drain: %d %s", code, body)
	}
	if err := wsEcho(c, "while draining"); err != nil {
		t.Fatalf("socket broke when its backend started draining: %v", err)
	}
	if st := statusOf(t, lb, addr); st.State != pool.StateDraining.String() || st.Upgraded != 1 {
		t.Errorf("/status %s upgraded %d, want draining with 1", st.State, st.Upgraded)
	}
	c2, name2 := dialWS(t, lb)
	if name2 == name {
		t.Fatalf("new socket went to the draining backend %s", name)
	}
	if err := wsEcho(c2, "new"); err != nil {
		t.Fatal(err)
	}
	wsClosed(t, c)
	if since := time.Since(drainedAt); since < 2*time.Second {
		t.Errorf("closed %v after the drain, before the 2s deregistration delay", since)
	}
	waitFor(t, "log line", func() bool {
		return logs.FilterMessage("websocket closed: deregistration delay expired").FilterField(zapString("backend", addr)).Len() == 1
	})
	if err := wsEcho(c2, "other socket unaffected"); err != nil {
		t.Fatal(err)
	}
}

// TestShutdownClosesWebSocketsAfterGrace: Shutdown lets an open socket
// run through the grace period, then closes it and says so.
func TestShutdownClosesWebSocketsAfterGrace(t *testing.T) {
	lb, _, logs := runChat(t, "300s")
	c, _ := dialWS(t, lb)
	if err := wsEcho(c, "hello"); err != nil {
		t.Fatal(err)
	}
	const grace = 700 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- lb.Shutdown(ctx) }()
	if err := wsEcho(c, "during grace"); err != nil && time.Since(start) < grace {
		t.Errorf("socket failed within the grace period: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Shutdown: %v, want the deadline error (a socket was cut)", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Shutdown did not return")
	}
	if since := time.Since(start); since < grace {
		t.Errorf("Shutdown returned after %v, before the grace period", since)
	}
	wsClosed(t, c)
	if logs.FilterMessage("websocket closed: shutdown grace period over").Len() != 1 {
		t.Error("no close log line")
	}
	if n := lb.InFlight(); n != 0 {
		t.Errorf("in flight %d after shutdown", n)
	}
}

type observedLogs = observer.ObservedLogs

func zapString(k, v string) zap.Field { return zap.String(k, v) }
