package demo

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/lbtrust/lb/demo/stream"
	"github.com/lbtrust/lb/demo/stream/streamtest"
)

// TestStreamEndpoints: the demo backend serves package stream's
// endpoints, tagged with its name, and Close ends an endless event stream
// instead of waiting for it.
func TestStreamEndpoints(t *testing.T) {
	b, err := Start("127.0.0.1:0", "d2")
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			b.Close()
		}
	})
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	streamtest.CheckBytesAndUpload(t, c, b.Addr(), HeaderBackend, "d2", 8, true)

	// A POST with a body to an ordinary path still gets its JSON answer
	// on a kept-alive connection (the unread streamed body is discarded).
	for range 2 {
		resp, err := c.Post("http://"+b.Addr()+"/x", "text/plain", stream.NewReader(stream.NewContent(8), 100<<10))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(body) == 0 {
			t.Errorf("POST /x: %d %q", resp.StatusCode, body)
		}
	}

	resp, err := c.Get("http://" + b.Addr() + stream.SSE{Every: 10 * time.Millisecond}.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	er := stream.NewEventReader(resp.Body)
	if e, err := er.Next(); err != nil || e.Seq != 1 || resp.Header.Get(HeaderBackend) != "d2" {
		t.Fatalf("/sse first event: %+v %v", e, err)
	}
	t0 := time.Now()
	closed = true
	b.Close()
	if d := time.Since(t0); d > 3*time.Second {
		t.Errorf("Close with an endless event stream open took %s", d)
	}
}
