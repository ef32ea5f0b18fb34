package target

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeAdmin serves an lb-like /status whose first backend's counter and
// state the test moves.
type fakeAdmin struct {
	requests atomic.Uint64
	down     atomic.Bool
}

func (f *fakeAdmin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	state := "healthy"
	if f.down.Load() {
		state = "unhealthy"
	}
	fmt.Fprintf(w, `{"pools":[{"name":"p","backends":[
{"address":"127.0.0.1:1","state":%q,"reason":"timeout","since":%q,"requests":%d},
{"address":"127.0.0.1:2","state":"healthy","since":"2026-01-01T00:00:00Z","requests":7}]}]}`,
		state, time.Now().UTC().Format(time.RFC3339Nano), f.requests.Load())
}

func TestPollerAndWaitHealthy(t *testing.T) {
	fa := &fakeAdmin{}
	fa.down.Store(true)
	srv := httptest.NewServer(fa)
	defer srv.Close()
	admin := strings.TrimPrefix(srv.URL, "http://")

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	err := WaitHealthy(ctx, admin, []string{"127.0.0.1:1", "127.0.0.1:2"}, nil)
	cancel()
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("WaitHealthy with a backend down = %v", err)
	}

	fa.down.Store(false)
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := WaitHealthy(ctx, admin, []string{"127.0.0.1:1", "127.0.0.1:2"}, nil); err != nil {
		t.Fatal(err)
	}

	p := StartPoller(admin, 10*time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for len(p.Samples()) < 3 && time.Now().Before(deadline) {
		fa.requests.Add(1)
		time.Sleep(30 * time.Millisecond)
	}
	fa.down.Store(true)
	for len(p.Events()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	p.Stop()
	for _, s := range p.Samples() {
		if s.Ref != "127.0.0.1:1" || !s.At.After(s.Prev) {
			t.Errorf("sample %+v: only backend 1's counter moves", s)
		}
	}
	if len(p.Samples()) < 3 {
		t.Errorf("samples %v", p.Samples())
	}
	ev := p.Events()
	if len(ev) != 1 || ev[0].Ref != "127.0.0.1:1" || ev[0].From != "healthy" || ev[0].To != "unhealthy" || ev[0].Reason != "timeout" {
		t.Errorf("events %+v", ev)
	}
}
