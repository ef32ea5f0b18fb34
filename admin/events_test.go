package admin

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/lbtrust/lb/events"
)

// fakeSource records what /events asked for and answers canned events.
type fakeSource struct {
	mu      sync.Mutex
	backend string
	limit   int
	answer  []events.Event
}

func (f *fakeSource) List(backend string, limit int) []events.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.backend, f.limit = backend, limit
	return f.answer
}

func (f *fakeSource) asked() (string, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.backend, f.limit
}

func TestEventsEndpoint(t *testing.T) {
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	src := &fakeSource{answer: []events.Event{
		{Seq: 2, Time: at.Add(time.Second), Kind: events.KindTransition, Pool: "web", Backend: "10.0.0.1:80",
			From: "healthy", To: "unhealthy", Reason: "status_mismatch", Detail: "503", ProbeLatencyMS: 1.5},
		{Seq: 1, Time: at, Kind: events.KindReload, Reason: events.ReloadApplied, Changes: []string{"no change"}},
	}}
	h := New(Options{Events: src})
	addr := serveAdmin(t, h)

	var body struct {
		Events []map[string]any `json:"events"`
	}
	if code := get(t, "http://"+addr+"/events", &body); code != 200 {
		t.Fatalf("GET /events: %d", code)
	}
	if be, limit := src.asked(); be != "" || limit != 0 {
		t.Errorf("no query asked List(%q, %d), want (\"\", 0)", be, limit)
	}
	if len(body.Events) != 2 {
		t.Fatalf("got %d events: %+v", len(body.Events), body.Events)
	}
	first := body.Events[0]
	for k, want := range map[string]any{
		"seq": 2.0, "time": "2025-06-01T12:00:01Z", "kind": "transition", "pool": "web", "backend": "10.0.0.1:80",
		"from": "healthy", "to": "unhealthy", "reason": "status_mismatch", "detail": "503", "probe_latency_ms": 1.5,
	} {
		if first[k] != want {
			t.Errorf("events[0].%s = %v, want %v", k, first[k], want)
		}
	}
	if _, ok := body.Events[1]["backend"]; ok {
		t.Errorf("a reload event has a backend field: %v", body.Events[1])
	}

	tests := []struct {
		query   string
		code    int
		backend string
		limit   int
	}{
		{"?backend=10.0.0.1:80", 200, "10.0.0.1:80", 0},
		{"?backend=10.0.0.1%3A80&limit=5", 200, "10.0.0.1:80", 5},
		{"?limit=1", 200, "", 1},
		{"?limit=0", 400, "", 0},
		{"?limit=-3", 400, "", 0},
		{"?limit=many", 400, "", 0},
	}
	for _, tt := range tests {
		src.mu.Lock()
		src.backend, src.limit = "unset", -99
		src.mu.Unlock()
		var errBody errorBody
		var into any = &body
		if tt.code != 200 {
			into = &errBody
		}
		if code := get(t, "http://"+addr+"/events"+tt.query, into); code != tt.code {
			t.Errorf("GET /events%s: %d, want %d", tt.query, code, tt.code)
			continue
		}
		be, limit := src.asked()
		switch {
		case tt.code != 200 && (be != "unset" || errBody.Error == ""):
			t.Errorf("GET /events%s: a refused query reached the source or has no error: %q", tt.query, errBody.Error)
		case tt.code == 200 && (be != tt.backend || limit != tt.limit):
			t.Errorf("GET /events%s asked List(%q, %d), want (%q, %d)", tt.query, be, limit, tt.backend, tt.limit)
		}
	}
}

// TestEventsFromARealRing serves an events.Ring and checks the filter and
// order end to end.
func TestEventsFromARealRing(t *testing.T) {
	ring := events.New(3)
	for _, be := range []string{"a:1", "b:1", "a:1", "b:1", "a:1"} {
		ring.Add(events.Event{Kind: events.KindTransition, Pool: "web", Backend: be})
	}
	addr := serveAdmin(t, New(Options{Events: ring}))
	var body struct {
		Events []events.Event `json:"events"`
	}
	get(t, "http://"+addr+"/events", &body)
	if len(body.Events) != 3 || body.Events[0].Seq != 5 || body.Events[2].Seq != 3 {
		t.Fatalf("ring of 3 after 5 adds: %+v", body.Events)
	}
	body.Events = nil
	get(t, "http://"+addr+"/events?backend=a:1", &body)
	if len(body.Events) != 2 || body.Events[0].Seq != 5 || body.Events[1].Seq != 3 {
		t.Fatalf("backend=a:1: %+v", body.Events)
	}
}

func TestEventsWithoutSourceIsEmptyList(t *testing.T) {
	addr := serveAdmin(t, New(Options{}))
	var raw map[string]any
	if code := get(t, "http://"+addr+"/events", &raw); code != 200 {
		t.Fatalf("%d", code)
	}
	if l, ok := raw["events"].([]any); !ok || len(l) != 0 {
		t.Fatalf("want \"events\": [], got %v", raw)
	}
	if code := statusOf(t, http.MethodPost, "http://"+addr+"/events"); code != 405 {
		t.Fatalf("POST /events: %d, want 405", code)
	}
}
