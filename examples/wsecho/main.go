// Command wsecho sends each argument as a text message over one WebSocket
// and prints what comes back: a small client for the WebSocket example
// (examples/lb-websocket.hcl, whose demo backends echo on /ws).
//
//	go run ./examples/wsecho -url ws://127.0.0.1:8081/ws hello world
//
// It prints the backend that accepted the socket (the demo backends' 101
// answer carries X-Backend) and one line per echo, then closes the socket
// cleanly. It exits 1 on any failure.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/coder/websocket"
)

func main() {
	url := flag.String("url", "ws://127.0.0.1:8081/ws", "WebSocket URL")
	timeout := flag.Duration("timeout", 10*time.Second, "time for the whole exchange")
	flag.Parse()
	if err := run(*url, flag.Args(), *timeout, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "wsecho:", err)
		os.Exit(1)
	}
}

// run dials url, echoes every message and closes the socket, writing a
// line per step to out.
func run(url string, msgs []string, timeout time.Duration, out io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		return err
	}
	defer c.CloseNow()
	fmt.Fprintf(out, "connected to %s (backend %q)\n", url, resp.Header.Get("X-Backend"))
	for _, m := range msgs {
		if err := c.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
			return err
		}
		_, got, err := c.Read(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "echo: %s\n", got)
	}
	return c.Close(websocket.StatusNormalClosure, "done")
}
