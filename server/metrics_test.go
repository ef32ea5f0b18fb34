package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestMetricsAfterKnownTraffic sends known traffic through an in-process
// LB, drains its backend, scrapes /metrics, parses it with the Prometheus
// text parser and checks the counts.
func TestMetricsAfterKnownTraffic(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			w.WriteHeader(http.StatusNotFound)
		case "/boom":
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(be.Close)
	addr := strings.TrimPrefix(be.URL, "http://")
	cfg := mustParse(t, fmt.Sprintf(`
admin { address = "127.0.0.1:0" }
listener "public" {
  address = "127.0.0.1:0"
  pool    = "web"
}
pool "web" {
  health_check {
    path     = "/health"
    interval = "100ms"
    timeout  = "50ms"
  }
  backend %q {}
}
`, addr))
	lb := startLB(t, cfg, Options{Version: "test"})
	admin := "http://" + lb.AdminAddr().String()
	waitReady(t, admin)

	base := "http://" + lb.ListenerAddr("public").String()
	want := map[string]int{"/": 200, "/missing": 404, "/boom": 500}
	sent := []string{"/", "/", "/", "/", "/", "/missing", "/missing", "/boom"}
	for _, path := range sent {
		if code, _ := adminDo(t, http.MethodGet, base+path, ""); code != want[path] {
			t.Fatalf("GET %s: %d, want %d", path, code, want[path])
		}
	}
	if _, err := lb.Drain("web", addr); err != nil {
		t.Fatal(err)
	}
	if code, _ := adminDo(t, http.MethodGet, base+"/", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("GET / with the only backend drained: %d, want 503", code)
	}

	code, body := adminDo(t, http.MethodGet, admin+"/metrics", "")
	if code != 200 {
		t.Fatalf("GET /metrics: %d %s", code, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("/metrics is not valid Prometheus text: %v\n%s", err, body)
	}
	value := func(name string, labels map[string]string) (float64, bool) {
		t.Helper()
		f, ok := fams[name]
		if !ok {
			t.Fatalf("no metric family %s in:\n%s", name, body)
		}
	next:
		for _, m := range f.GetMetric() {
			for k, v := range labels {
				if labelOf(m, k) != v {
					continue next
				}
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				return m.GetCounter().GetValue(), true
			case dto.MetricType_GAUGE:
				return m.GetGauge().GetValue(), true
			case dto.MetricType_HISTOGRAM:
				return float64(m.GetHistogram().GetSampleCount()), true
			}
		}
		return 0, false
	}
	expect := func(name string, labels map[string]string, want float64) {
		t.Helper()
		if got, ok := value(name, labels); !ok || got != want {
			t.Errorf("%s%v = %v (found %v), want %v", name, labels, got, ok, want)
		}
	}
	web := map[string]string{"pool": "web"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{"pool": "web", "backend": addr}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	expect("lb_requests_total", with("class", "2xx"), 5)
	expect("lb_requests_total", with("class", "4xx"), 2)
	expect("lb_requests_total", with("class", "5xx"), 1)
	expect("lb_requests_total", with("class", "3xx"), 0)
	expect("lb_requests_total", with("class", "error"), 0)
	expect("lb_requests_no_backend_total", web, 1)
	expect("lb_request_duration_seconds", web, float64(len(sent)+1))
	expect("lb_backend_in_flight", with(), 0)
	expect("lb_backend_state", with("state", "healthy"), 0)
	expect("lb_backend_state", with("state", "initial"), 0)
	draining, _ := value("lb_backend_state", with("state", "draining"))
	drained, _ := value("lb_backend_state", with("state", "drained"))
	if draining+drained != 1 {
		t.Errorf("lb_backend_state draining=%v drained=%v, want one of them 1", draining, drained)
	}
	expect("lb_transitions_total", map[string]string{"pool": "web", "from": "initial", "to": "healthy", "reason": "initial_check"}, 1)
	expect("lb_transitions_total", map[string]string{"pool": "web", "from": "healthy", "to": "draining", "reason": "admin_drain"}, 1)
	expect("lb_drains_total", map[string]string{"pool": "web", "reason": "admin_drain"}, 1)
	expect("lb_retries_total", web, 0)
	expect("lb_retries_refused_total", web, 0)
	if n, _ := value("lb_health_checks_total", map[string]string{"pool": "web", "outcome": "check_passed"}); n < 1 {
		t.Errorf("lb_health_checks_total{outcome=check_passed} = %v, want >= 1", n)
	}
	if n, _ := value("lb_health_check_duration_seconds", web); n < 1 {
		t.Errorf("lb_health_check_duration_seconds count = %v, want >= 1", n)
	}
	if _, ok := fams["lb_ejections_total"]; ok {
		t.Errorf("lb_ejections_total has samples, no backend was ejected")
	}
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// waitReady waits for the admin listener's /readyz to answer 200.
func waitReady(t *testing.T, admin string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := c.Get(admin + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("never ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
