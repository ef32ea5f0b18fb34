package demo

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/lbtrust/lb/demo/stream"
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
	content := stream.NewContent(8)

	resp, err := c.Get("http://" + b.Addr() + stream.Bytes{N: 3 << 20, Seed: 8, Chunked: true}.Path())
	if err != nil {
		t.Fatal(err)
	}
	v := stream.NewVerifier(content, 3<<20)
	_, err = io.Copy(v, resp.Body)
	resp.Body.Close()
	if err != nil || v.Check() != nil || resp.Header.Get(HeaderBackend) != "d2" {
		t.Errorf("/bytes: %v %v, X-Backend %q", err, v.Check(), resp.Header.Get(HeaderBackend))
	}

	resp, err = c.Post("http://"+b.Addr()+stream.PathUpload, "application/octet-stream", stream.NewReader(content, 2<<20))
	if err != nil {
		t.Fatal(err)
	}
	var up stream.UploadResult
	err = json.NewDecoder(resp.Body).Decode(&up)
	resp.Body.Close()
	if err != nil || up.Bytes != 2<<20 || up.SHA256 != stream.Digest(content, 2<<20) {
		t.Errorf("/upload: %+v %v", up, err)
	}

	// A POST with a body to an ordinary path still gets its JSON answer
	// on a kept-alive connection (the unread streamed body is discarded).
	for range 2 {
		resp, err = c.Post("http://"+b.Addr()+"/x", "text/plain", stream.NewReader(content, 100<<10))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(body) == 0 {
			t.Errorf("POST /x: %d %q", resp.StatusCode, body)
		}
	}

	resp, err = c.Get("http://" + b.Addr() + stream.SSE{Every: 10 * time.Millisecond}.Path())
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
