// Package transfer is the client side of the benchmark's streaming
// scenario: concurrent downloads from the backends' /bytes endpoint
// through the load balancer under test, each body checked byte for byte
// as it arrives (nothing is kept), and Server-Sent Events probes that time
// every event from the backend's write to the client's read.
package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/lbtrust/lb/demo/stream"
)

// NewClient returns an HTTP client for large transfers and long streams:
// no compression, 64 KiB socket buffers in the transport, as many
// connections per host as there are requests at once, connections from
// 127.0.0.1; no overall timeout (each call bounds its requests).
// CloseIdleConnections on its Transport closes them.
func NewClient() *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{
		DialContext:         d.DialContext,
		DisableCompression:  true,
		MaxIdleConnsPerHost: 1024,
		ReadBufferSize:      64 << 10,
		WriteBufferSize:     64 << 10,
	}}
}

// Downloads configures RunDownloads.
type Downloads struct {
	// Base is the target's URL without a path: "http://127.0.0.1:8080".
	Base string
	// Count downloads run at once, each of Size bytes.
	Count int
	Size  int64
	// Seed is the first download's seed; download i uses Seed + i, so a
	// body crossed into another connection does not match.
	Seed uint64
	// Timeout bounds each download, from its request to its last byte.
	Timeout time.Duration
	// Header names the backend in answers (X-Backend), recorded per
	// download when set.
	Header string
}

// Download is the outcome of one download.
type Download struct {
	Index int    // 0-based
	Seed  uint64 // the body's seed
	// Bytes is how many bytes arrived and matched.
	Bytes int64
	// Start and End are since the downloads began: the request was sent,
	// and the body was complete (or failed).
	Start, End time.Duration
	// Kind is "ok", or how it failed: http_NNN, mismatch (the bytes
	// differ from the expected stream), short (the body ended early),
	// stopped (the run was cancelled), timeout, connection_refused,
	// connection_reset, transport_error.
	Kind    string
	Err     string // the error, for people
	Backend string // the header Downloads.Header named, if any
}

// OK reports whether the body arrived whole and exact.
func (d Download) OK() bool { return d.Kind == "ok" }

// RunDownloads starts every download at once and returns when all have
// ended (or ctx ended), in index order, with the time they began.
func RunDownloads(ctx context.Context, c *http.Client, o Downloads) ([]Download, time.Time) {
	out := make([]Download, o.Count)
	began := time.Now()
	contents := map[uint64]*stream.Content{}
	for i := range out {
		s := o.Seed + uint64(i)
		if contents[s] == nil {
			contents[s] = stream.NewContent(s)
		}
	}
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() {
			s := o.Seed + uint64(i)
			out[i] = download(ctx, c, o, i, contents[s], began)
		})
	}
	wg.Wait()
	return out, began
}

// download runs download i.
func download(ctx context.Context, c *http.Client, o Downloads, i int, content *stream.Content, began time.Time) Download {
	d := Download{Index: i, Seed: content.Seed(), Start: time.Since(began)}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	v := stream.NewVerifier(content, o.Size)
	kind, err := func() (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.Base+stream.Bytes{N: o.Size, Seed: content.Seed()}.Path(), nil)
		if err != nil {
			return "transport_error", err
		}
		resp, err := c.Do(req)
		if err != nil {
			return Classify(err), err
		}
		defer resp.Body.Close()
		if o.Header != "" {
			d.Backend = resp.Header.Get(o.Header)
		}
		if resp.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
			return fmt.Sprintf("http_%d", resp.StatusCode), fmt.Errorf("%s: %s", resp.Status, body)
		}
		if _, err := io.Copy(v, resp.Body); err != nil {
			if errors.Is(err, stream.ErrMismatch) {
				return "mismatch", err
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return "short", fmt.Errorf("after %d bytes: %w", v.Received(), err)
			}
			return Classify(err), fmt.Errorf("after %d bytes: %w", v.Received(), err)
		}
		if err := v.Check(); err != nil {
			return "short", err
		}
		return "ok", nil
	}()
	d.End, d.Bytes, d.Kind = time.Since(began), v.Received(), kind
	if err != nil {
		d.Err = err.Error()
	}
	return d
}

// Classify names a transport error the way the benchmark's reports do:
// stopped (the run cancelled it), timeout, connection_refused,
// connection_reset or transport_error.
func Classify(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "stopped"
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection_refused"
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "connection_reset"
	}
	return "transport_error"
}

// Probe configures RunProbe.
type Probe struct {
	// Base is the server's URL without a path: the target, or a backend.
	Base string
	// Streams run at once, each asking for Events events one Every apart.
	Streams int
	Every   time.Duration
	Events  int
	// Timeout bounds each stream; it should exceed Events × Every.
	Timeout time.Duration
}

// Stream is what one event stream saw.
type Stream struct {
	// FirstEvent is from the request to the first event read; -1 when no
	// event came.
	FirstEvent time.Duration
	// Delays are each event's delay, in order: read − sent_unix_ns (one
	// machine, one clock).
	Delays []time.Duration
	Err    string // why the stream ended early, if it did
}

// RunProbe runs the streams at once and returns when all have ended.
func RunProbe(ctx context.Context, c *http.Client, p Probe) []Stream {
	out := make([]Stream, p.Streams)
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() { out[i] = probe(ctx, c, p) })
	}
	wg.Wait()
	return out
}

// probe runs one stream.
func probe(ctx context.Context, c *http.Client, p Probe) Stream {
	s := Stream{FirstEvent: -1}
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.Base+stream.SSE{Every: p.Every, N: int64(p.Events)}.Path(), nil)
	if err != nil {
		s.Err = err.Error()
		return s
	}
	sent := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		s.Err = err.Error()
		return s
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.Err = resp.Status
		return s
	}
	er := stream.NewEventReader(resp.Body)
	for len(s.Delays) < p.Events {
		e, err := er.Next()
		if err != nil {
			s.Err = fmt.Sprintf("after %d events: %v", len(s.Delays), err)
			return s
		}
		if s.FirstEvent < 0 {
			s.FirstEvent = e.Received.Sub(sent)
		}
		s.Delays = append(s.Delays, e.Delay())
	}
	return s
}
