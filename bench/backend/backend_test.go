package backend

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lbtrust/lb/demo/stream"
	"github.com/lbtrust/lb/demo/stream/streamtest"
)

func get(t *testing.T, c *http.Client, url string) (int, string, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get(HeaderBackend)
}

func start(t *testing.T, o Options) (*Server, *http.Client) {
	t.Helper()
	s, err := Start("127.0.0.1:0", o)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 10 * time.Second}
	t.Cleanup(func() {
		c.CloseIdleConnections()
		s.Close(time.Second)
	})
	return s, c
}

func TestTrafficAndHealth(t *testing.T) {
	s, c := start(t, Options{Name: "b7", ResponseSize: 300})
	code, body, tag := get(t, c, "http://"+s.Addr()+"/anything")
	if code != 200 || len(body) != 300 || tag != "b7" {
		t.Errorf("traffic: %d, %d bytes, tag %q", code, len(body), tag)
	}
	code, body, tag = get(t, c, "http://"+s.Addr()+"/readyz")
	if code != 200 || body != `{"status":"ok"}` || tag != "b7" {
		t.Errorf("readyz: %d %s %q", code, body, tag)
	}
	if s.Served() != 1 {
		t.Errorf("served %d, want 1 (health checks do not count)", s.Served())
	}
	s.Drain()
	code, body, _ = get(t, c, "http://"+s.Addr()+"/readyz")
	if code != 503 || !strings.Contains(body, `"status":"shutting_down"`) {
		t.Errorf("readyz while draining: %d %s", code, body)
	}
	if code, _, _ := get(t, c, "http://"+s.Addr()+"/"); code != 200 {
		t.Errorf("traffic while draining: %d", code)
	}
}

func TestFaultModes(t *testing.T) {
	s, c := start(t, Options{Name: "b1", Latency: time.Millisecond, FlapPeriod: 300 * time.Millisecond})
	ctx := context.Background()

	if err := SetFault(ctx, c, s.Addr(), ModeErrors); err != nil {
		t.Fatal(err)
	}
	if code, _, tag := get(t, c, "http://"+s.Addr()+"/"); code != 500 || tag != "b1" {
		t.Errorf("errors mode: %d %q, want a tagged 500", code, tag)
	}
	if code, _, _ := get(t, c, "http://"+s.Addr()+"/readyz"); code != 200 {
		t.Errorf("errors mode: readyz %d, want 200 (health says ok)", code)
	}

	if err := SetFault(ctx, c, s.Addr(), ModeSlow); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if code, _, _ := get(t, c, "http://"+s.Addr()+"/"); code != 200 {
		t.Errorf("slow mode: %d", code)
	}
	if d := time.Since(t0); d < SlowFactor*time.Millisecond {
		t.Errorf("slow mode answered in %s, want at least %s", d, SlowFactor*time.Millisecond)
	}

	if err := SetFault(ctx, c, s.Addr(), ModeFlap); err != nil {
		t.Fatal(err)
	}
	// Failing first, then ok, then failing: see both within a few periods.
	saw := map[int]bool{}
	deadline := time.Now().Add(10 * time.Second)
	for len(saw) < 2 && time.Now().Before(deadline) {
		code, _, _ := get(t, c, "http://"+s.Addr()+"/readyz")
		saw[code] = true
		time.Sleep(20 * time.Millisecond)
	}
	if !saw[503] || !saw[200] {
		t.Errorf("flap: readyz answered %v, want both 503 and 200", saw)
	}

	if err := SetFault(ctx, c, s.Addr(), ModeNone); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := get(t, c, "http://"+s.Addr()+"/_fault"); code != 200 || body != `{"mode":"none"}` {
		t.Errorf("GET /_fault: %d %s", code, body)
	}
	if err := SetFault(ctx, c, s.Addr(), Mode(99)); err == nil {
		t.Error("an unknown mode was accepted")
	}
}

func TestParseMode(t *testing.T) {
	for _, m := range []Mode{ModeNone, ModeErrors, ModeSlow, ModeFlap} {
		if got, err := ParseMode(m.String()); err != nil || got != m {
			t.Errorf("ParseMode(%q) = %v, %v", m, got, err)
		}
	}
	if _, err := ParseMode("explode"); err == nil {
		t.Error("ParseMode accepted explode")
	}
}

func TestMainFlagErrors(t *testing.T) {
	// Main blocks on signals; exercising it in-process would signal the
	// test binary, so only the flag errors are checked here (the fleet
	// package runs it as a process).
	var out, errb bytes.Buffer
	if code := Main([]string{"-no-such-flag"}, &out, &errb); code != 2 {
		t.Errorf("bad flag: exit %d", code)
	}
	if code := Main([]string{"-listen", "256.0.0.1:1"}, &out, &errb); code != 1 {
		t.Errorf("bad address: exit %d, stderr %s", code, errb.String())
	}
}

// TestStreamEndpoints: the backend serves package stream's endpoints,
// tagged, and Close ends an endless event stream instead of waiting for
// it.
func TestStreamEndpoints(t *testing.T) {
	s, c := start(t, Options{Name: "b3"})
	streamtest.CheckBytesAndUpload(t, c, s.Addr(), HeaderBackend, "b3", 5, false)

	resp, err := c.Get("http://" + s.Addr() + stream.SSE{Every: 10 * time.Millisecond}.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	er := stream.NewEventReader(resp.Body)
	if e, err := er.Next(); err != nil || e.Seq != 1 {
		t.Fatalf("/sse first event: %+v %v", e, err)
	}
	t0 := time.Now()
	s.Close(5 * time.Second)
	if d := time.Since(t0); d > 3*time.Second {
		t.Errorf("Close with an endless event stream open took %s", d)
	}
	if s.Served() != 3 {
		t.Errorf("served %d, want 3", s.Served())
	}
}
