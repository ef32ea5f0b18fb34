package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/lbtrust/lb/demo/stream"
	"github.com/lbtrust/lb/internal/leakcheck"
	"github.com/valyala/fasthttp"
)

func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }

// server serves package stream's endpoints, tagged X-Backend: t1, and
// broken variants of /bytes: /flipped (one byte wrong), /crossed (another
// seed's body), /short (ends before its Content-Length), /busy (503).
func server(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := stream.NewHandler()
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.Response.Header.Set("X-Backend", "t1")
		n, _ := strconv.ParseInt(string(ctx.QueryArgs().Peek("n")), 10, 64)
		seed, _ := strconv.ParseUint(string(ctx.QueryArgs().Peek("seed")), 10, 64)
		switch string(ctx.QueryArgs().Peek("break")) {
		case "flipped":
			body := make([]byte, n)
			stream.NewContent(seed).Fill(body, 0)
			body[n/2] ^= 1
			ctx.SetBody(body)
		case "crossed":
			ctx.SetBodyStream(stream.NewReader(stream.NewContent(seed+1), n), int(n))
		case "busy":
			ctx.SetStatusCode(503)
		default:
			if !h.Serve(ctx) {
				ctx.SetStatusCode(404)
			}
		}
	}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		h.Close()
		srv.Shutdown()
		ln.Close() // a Shutdown before Serve registered it would not
		<-done
		h.Wait()
	})
	return "http://" + ln.Addr().String()
}

// rewrite sends every request to its URL with a query added.
type rewrite struct {
	query string
	next  http.RoundTripper
}

func (r rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.RawQuery += "&" + r.query
	return r.next.RoundTrip(req)
}

func TestDownloads(t *testing.T) {
	base := server(t)
	c := NewClient()
	defer c.Transport.(*http.Transport).CloseIdleConnections()
	ctx := context.Background()
	o := Downloads{Base: base, Count: 5, Size: 3<<20 + 7, Seed: 40, Timeout: 20 * time.Second, Header: "X-Backend"}
	out, began := RunDownloads(ctx, c, o)
	if began.IsZero() || len(out) != 5 {
		t.Fatalf("%d results", len(out))
	}
	for i, d := range out {
		if !d.OK() || d.Index != i || d.Seed != 40+uint64(i) || d.Bytes != o.Size || d.Backend != "t1" || d.End <= d.Start || d.Err != "" {
			t.Errorf("download %d: %+v", i, d)
		}
	}

	for _, tc := range []struct {
		query string
		kind  string
	}{
		{"break=flipped", "mismatch"},
		{"break=crossed", "mismatch"},
		{"abort_after=1000", "short"},
		{"abort_after=1000&chunked=1", "short"},
		{"break=busy", "http_503"},
	} {
		bc := &http.Client{Transport: rewrite{tc.query, c.Transport}}
		out, _ := RunDownloads(ctx, bc, Downloads{Base: base, Count: 1, Size: 100000, Timeout: 20 * time.Second})
		if d := out[0]; d.Kind != tc.kind || d.Err == "" {
			t.Errorf("%s: %+v, want kind %s", tc.query, d, tc.kind)
		}
	}

	// Nobody listening; then a cancelled run; then a timeout.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	if d := first(RunDownloads(ctx, c, Downloads{Base: dead, Count: 1, Size: 10, Timeout: 5 * time.Second})); d.Kind != "connection_refused" {
		t.Errorf("refused: %+v", d)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if d := first(RunDownloads(cctx, c, Downloads{Base: base, Count: 1, Size: 10, Timeout: 5 * time.Second})); d.Kind != "stopped" {
		t.Errorf("cancelled: %+v", d)
	}
	slow := &http.Client{Transport: rewrite{"rate=1000", c.Transport}}
	if d := first(RunDownloads(ctx, slow, Downloads{Base: base, Count: 1, Size: 100000, Timeout: 300 * time.Millisecond})); d.Kind != "timeout" || d.Bytes == 0 {
		t.Errorf("paced past its timeout: %+v", d)
	}
}

func first(ds []Download, _ time.Time) Download { return ds[0] }

func TestClassify(t *testing.T) {
	for err, want := range map[error]string{
		context.Canceled: "stopped",
		fmt.Errorf("x: %w", context.DeadlineExceeded): "timeout",
		io.ErrUnexpectedEOF:                           "connection_reset",
		errors.New("something else"):                  "transport_error",
	} {
		if got := Classify(err); got != want {
			t.Errorf("Classify(%v) = %s, want %s", err, got, want)
		}
	}
}

func TestProbe(t *testing.T) {
	base := server(t)
	c := NewClient()
	defer c.Transport.(*http.Transport).CloseIdleConnections()
	out := RunProbe(context.Background(), c, Probe{Base: base, Streams: 3, Every: 20 * time.Millisecond, Events: 5, Timeout: 20 * time.Second})
	if len(out) != 3 {
		t.Fatalf("%d streams", len(out))
	}
	for i, s := range out {
		if s.Err != "" || len(s.Delays) != 5 || s.FirstEvent < 0 || s.FirstEvent > 5*time.Second {
			t.Errorf("stream %d: %+v", i, s)
		}
		for _, d := range s.Delays {
			if d < 0 || d > time.Second {
				t.Errorf("stream %d: delay %s", i, d)
			}
		}
	}
	// A stream that is not one, and one cut short by its timeout.
	bad := RunProbe(context.Background(), c, Probe{Base: base + "/nothing", Streams: 1, Every: time.Second, Events: 1, Timeout: 5 * time.Second})
	if bad[0].Err == "" || bad[0].FirstEvent != -1 {
		t.Errorf("probe of a 404: %+v", bad[0])
	}
	cut := RunProbe(context.Background(), c, Probe{Base: base, Streams: 1, Every: 100 * time.Millisecond, Events: 50, Timeout: 350 * time.Millisecond})
	if cut[0].Err == "" || len(cut[0].Delays) == 0 || len(cut[0].Delays) >= 50 {
		t.Errorf("probe past its timeout: %d events, err %q", len(cut[0].Delays), cut[0].Err)
	}
}
