package main

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestWebSocketExample runs examples/lb-websocket.hcl as the README says
// (`lb demo -config ...`), on free ports: a WebSocket echoes through the
// LB, and on SIGTERM the socket is closed when the grace period ends,
// with its log line, and the process exits 0.
func TestWebSocketExample(t *testing.T) {
	const example = "../../examples/lb-websocket.hcl"
	if out, err := exec.Command(lbBinary, "validate", "-config", example).CombinedOutput(); err != nil {
		t.Fatalf("validate %s: %v\n%s", example, err, out)
	}
	src, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(src)
	a := freePorts(t, 4)
	for i, fixed := range []string{"127.0.0.1:9902", "127.0.0.1:8081", "127.0.0.1:9021", "127.0.0.1:9022"} {
		if !strings.Contains(cfg, `"`+fixed+`"`) {
			t.Fatalf("the example no longer uses %s; update this test", fixed)
		}
		cfg = strings.ReplaceAll(cfg, `"`+fixed+`"`, `"`+a[i]+`"`)
	}
	path := filepath.Join(t.TempDir(), "lb-websocket.hcl")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := start(t, "demo", "-config", path, "-grace-period", "1s")

	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	var c *websocket.Conn
	eventually(t, 20*time.Second, "a WebSocket through the LB", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, _, err = websocket.Dial(ctx, "ws://"+a[1]+"/ws", &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
		return err == nil
	})
	defer c.CloseNow()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.Read(ctx); err != nil || string(got) != "hello" {
		t.Fatalf("echo: %q, %v", got, err)
	}

	p.signal(t, syscall.SIGTERM)
	for {
		if _, _, err := c.Read(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatal("socket still open 30s after SIGTERM")
			}
			break
		}
	}
	if code := p.wait(t, 40*time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if out := p.out.String(); !strings.Contains(out, "websocket closed: shutdown grace period over") {
		t.Errorf("no close log line in:\n%s", out)
	}
}
