package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// rawExchange writes req on a fresh connection to addr and returns what
// comes back until the LB closes it.
func rawExchange(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	return string(b)
}

// TestLimitsCountedInStatusAndMetrics refuses requests for several
// limits and finds each count, by listener and reason, in /status and
// /metrics.
func TestLimitsCountedInStatusAndMetrics(t *testing.T) {
	be := startBackend(t, "b1")
	cfg := mustParse(t, fmt.Sprintf(`
admin { address = "127.0.0.1:0" }
listener "public" {
  address             = "127.0.0.1:0"
  pool                = "web"
  read_header_timeout = "500ms"
  max_header_bytes    = 2048
  max_uri_length      = 64
  max_header_count    = 10
}
pool "web" {
  health_check {
    interval = "100ms"
    timeout  = "50ms"
  }
  backend %q {}
}
`, be.Addr()))
	lb := startLB(t, cfg, Options{Version: "test"})
	admin := "http://" + lb.AdminAddr().String()
	waitReady(t, admin)
	addr := lb.ListenerAddr("public").String()

	for _, tc := range []struct{ req, status string }{
		{"GET /" + strings.Repeat("u", 100) + " HTTP/1.1\r\nHost: lb\r\n\r\n", "414"},
		{"GET /" + strings.Repeat("u", 100) + " HTTP/1.1\r\nHost: lb\r\n\r\n", "414"},
		{"GET / HTTP/1.1\r\nHost: lb\r\nX-Big: " + strings.Repeat("a", 3000) + "\r\n\r\n", "431"},
		{"GET / HTTP/1.1\r\nHost: lb\r\nX-Slow: 1\r\n", "408"}, // never finished: read_header_timeout
	} {
		if got := rawExchange(t, addr, tc.req); !strings.HasPrefix(got, "HTTP/1.1 "+tc.status+" ") {
			t.Errorf("got %.60q, want %s", got, tc.status)
		}
	}
	want := map[string]uint64{"uri_too_long": 2, "header_too_large": 1, "read_header_timeout": 1, "too_many_headers": 0}

	var st struct {
		Listeners []struct {
			Name        string            `json:"name"`
			Connections *int64            `json:"connections"`
			Rejections  map[string]uint64 `json:"rejections"`
		} `json:"listeners"`
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := adminDo(t, http.MethodGet, admin+"/status", "")
		if code != 200 {
			t.Fatalf("/status: %d", code)
		}
		if err := json.Unmarshal(body, &st); err != nil {
			t.Fatal(err)
		}
		if len(st.Listeners) == 1 && st.Listeners[0].Connections != nil && *st.Listeners[0].Connections == 0 {
			break // every refused connection is closed on the LB's side too
		}
		if time.Now().After(deadline) {
			t.Fatalf("/status listeners: %s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	l := st.Listeners[0]
	for reason, n := range want {
		if l.Rejections[reason] != n {
			t.Errorf("/status rejections[%s] = %d, want %d (all: %v)", reason, l.Rejections[reason], n, l.Rejections)
		}
	}

	code, body := adminDo(t, http.MethodGet, admin+"/metrics", "")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, m := range fams["lb_client_rejections_total"].GetMetric() {
		if labelOf(m, "listener") == "public" {
			got[labelOf(m, "reason")] = m.GetCounter().GetValue()
		}
	}
	for reason, n := range want {
		if got[reason] != float64(n) {
			t.Errorf("lb_client_rejections_total{listener=public,reason=%s} = %v, want %d", reason, got[reason], n)
		}
	}
	if f := fams["lb_client_connections"]; f == nil || len(f.GetMetric()) != 1 || labelOf(f.GetMetric()[0], "listener") != "public" {
		t.Errorf("lb_client_connections: %v", f)
	}
}
