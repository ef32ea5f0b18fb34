package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/lbtrust/lb/balancer"
	"github.com/lbtrust/lb/pool"
)

// TestBackendStatusFieldsKnown: appendBackendJSON writes every field of
// pool.BackendStatus and pool.CheckStatus; a new field must be added
// there (and to the cases below) before this passes.
func TestBackendStatusFieldsKnown(t *testing.T) {
	if n := reflect.TypeFor[pool.BackendStatus]().NumField(); n != 18 {
		t.Fatalf("pool.BackendStatus has %d fields, appendBackendJSON knows 18", n)
	}
	if n := reflect.TypeFor[pool.CheckStatus]().NumField(); n != 6 {
		t.Fatalf("pool.CheckStatus has %d fields, appendBackendJSON knows 6", n)
	}
}

// TestBackendJSONMatchesEncodingJSON: appendBackendJSON writes what
// json.MarshalIndent writes, byte for byte, at any indentation.
func TestBackendJSONMatchesEncodingJSON(t *testing.T) {
	tiny, big, half := 1e-7, 2.5e21, 0.5
	at := time.Date(2026, 12, 5, 7, 30, 1, 123456789, time.FixedZone("x", -5*3600))
	cases := map[string]pool.BackendStatus{
		"zero": {},
		"healthy": {Address: "127.0.0.1:9001", Weight: 3, State: pool.StateHealthy, Reason: pool.ReasonCheckPassed,
			Since: at, LastCheck: &pool.CheckStatus{At: at.UTC(), LatencyMS: 1.5, Outcome: pool.ReasonCheckPassed, Code: 200},
			ConsecutivePasses: 12, InFlight: 4, Upgraded: 1, Streams: 2, Requests: 1 << 62, Errors: 7, Rescued: 1},
		"failing": {Address: "[::1]:80", Weight: 1, State: pool.StateUnhealthy, Reason: pool.ReasonConnectionRefused,
			Detail: "dial <tcp> & \"quotes\" \\ \n\t\b\f\x01 \u2028\u2029 é 日本 \xff\xfe", Since: at.UTC(),
			LastCheck:           &pool.CheckStatus{At: at, LatencyMS: 0, Outcome: pool.ReasonTimeout, Error: "i/o timeout <&>"},
			ConsecutiveFailures: -1, InFlight: -2},
		"draining": {Address: "127.0.0.1:1", State: pool.StateDraining, Reason: pool.ReasonAdminDrain, HeldBy: pool.ReasonAdminDrain,
			DrainSecondsLeft: &tiny},
		"huge drain": {DrainSecondsLeft: &big, State: pool.StateDrained},
		"fleet verdict": {State: pool.StateUnhealthy, Reason: pool.ReasonTimeout, By: "lb-2",
			LastCheck: &pool.CheckStatus{At: at, Outcome: pool.ReasonTimeout, By: "lb-2"}},
		"half drain":    {DrainSecondsLeft: &half, State: pool.State(99)},
		"check no code": {LastCheck: &pool.CheckStatus{LatencyMS: 123456.789e-9}},
	}
	for name, s := range cases {
		for _, prefix := range []string{"", "        "} {
			want, err := json.MarshalIndent(s, prefix, "  ")
			if err != nil {
				t.Fatal(err)
			}
			if got := appendBackendJSON(nil, &s, prefix); !bytes.Equal(got, want) {
				t.Errorf("%s, prefix %q:\n%s\nwant (encoding/json):\n%s", name, prefix, got, want)
			}
		}
	}
}

// FuzzAppendJSONString: appendJSONString quotes any string as
// encoding/json does.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "<a href=\"x\">&amp;</a>", "\x00\x1f\x7f", "\u2028\u2029", "\xff", "é\xc3", "\\\n\r\t\b\f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: %s, want %s", s, got, want)
		}
	})
}

// oldStatusBody is statusBody as it was encoded whole, pools included.
type oldStatusBody struct {
	Version       string            `json:"version"`
	UptimeSeconds int64             `json:"uptime_seconds"`
	ShuttingDown  bool              `json:"shutting_down"`
	Listeners     []ListenerState   `json:"listeners"`
	Pools         []pool.PoolStatus `json:"pools"`
	LastReload    *ReloadStatus     `json:"last_reload"`
}

// TestStatusMatchesEncodingJSON: /status over a socket is, byte for
// byte, the indented encoding/json encoding of the whole body with every
// pool's Status, for pools with backends in several states, a pool with
// discovery sources, an empty pool, and for no pool at all.
func TestStatusMatchesEncodingJSON(t *testing.T) {
	pol, _ := balancer.New(balancer.RoundRobin)
	web := pool.New(pool.Options{Name: "web", Policy: pol, Thresholds: pool.Thresholds{Healthy: 1, Unhealthy: 1}})
	empty := pool.New(pool.Options{Name: "<empty>", Policy: pol})
	defer web.Close()
	defer empty.Close()
	for i, addr := range []string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", "127.0.0.1:4"} {
		b, _, err := web.Add(addr, i+1)
		if err != nil {
			t.Fatal(err)
		}
		switch i {
		case 0:
			b.ObserveCheck(pool.CheckResult{Outcome: pool.ReasonCheckPassed, Code: 200, Latency: 1234567})
		case 1:
			err := errors.New(`dial tcp 127.0.0.1:2: connect: connection refused <"&">`)
			b.ObserveCheck(pool.CheckResult{Outcome: pool.ReasonConnectionRefused, Err: err, Detail: err.Error()})
		case 2:
			b.ObserveCheck(pool.CheckResult{Outcome: pool.ReasonCheckPassed, Code: 200})
			if err := web.Drain(addr); err != nil { // DRAINED at once
				t.Fatal(err)
			}
		}
	}
	now := time.Now()
	web.SetSources([]pool.SourceStatus{{Source: "dns web.internal (a)", State: pool.SourceStale, Backends: 4,
		LastSuccess: &now, LastError: "no such host", LastErrorAt: &now, Updates: 3, Errors: 1}})

	var pools []*pool.Pool
	listeners := []ListenerState{{Name: "public", Address: "127.0.0.1:8080", Bound: true, Connections: 2,
		Rejections: map[string]uint64{"header_too_large": 1}, Streams: StreamsState{Ended: map[string]uint64{"complete": 3}}}}
	reload := ReloadStatus{At: now, OK: true, Changes: []string{"pool web: +1"}}
	h := New(Options{Version: "v1.2.3 <test>", Started: now.Add(-time.Hour),
		Pools: func() []*pool.Pool { return pools }, Listeners: func() []ListenerState { return listeners },
		Reloads: func() ReloadStatus { return reload }})
	addr := serveAdmin(t, h)
	uptime := regexp.MustCompile(`"uptime_seconds": \d+`)

	for _, ps := range [][]*pool.Pool{nil, {web}, {web, empty}} {
		pools = ps
		want := oldStatusBody{Version: "v1.2.3 <test>", Listeners: listeners, Pools: []pool.PoolStatus{}, LastReload: &reload}
		for _, p := range ps {
			want.Pools = append(want.Pools, p.Status())
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(want); err != nil {
			t.Fatal(err)
		}
		c := &http.Client{Timeout: 10 * time.Second}
		resp, err := c.Get("http://" + addr + "/status")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		c.CloseIdleConnections()
		if err != nil {
			t.Fatal(err)
		}
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "application/json" {
			t.Fatalf("GET /status: %d %q", resp.StatusCode, ct)
		}
		g := uptime.ReplaceAll(got, []byte(`"uptime_seconds": 0`))
		w := uptime.ReplaceAll(buf.Bytes(), []byte(`"uptime_seconds": 0`))
		if !bytes.Equal(g, w) {
			t.Fatalf("%d pools: /status:\n%s\nwant (encoding/json):\n%s", len(ps), got, buf.Bytes())
		}
	}
}
