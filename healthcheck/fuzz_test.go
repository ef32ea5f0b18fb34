package healthcheck

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/lbtrust/lb/config"
)

// FuzzClassifyStatus: classifyStatus never panics; it says draining only
// for a 503 whose body is JSON with status shutting_down or draining, and
// otherwise passes exactly the codes the expected set matches.
func FuzzClassifyStatus(f *testing.F) {
	f.Add(503, []byte(`{"status":"shutting_down"}`), 200, 299)
	f.Add(503, []byte(`{"status":"draining","version":"1"}`), 503, 503)
	f.Add(200, []byte(`{"status":"draining"}`), 200, 200)
	f.Add(503, []byte(`{"status":"ok"}`), 200, 299)
	f.Add(503, []byte(`{"status":`), 500, 599)
	f.Add(404, []byte("not found"), 200, 399)
	f.Fuzz(func(t *testing.T, code int, body []byte, lo, hi int) {
		expected := config.StatusRanges{{Min: lo, Max: hi}}
		got := classifyStatus(code, body, expected)

		var v struct {
			Status string `json:"status"`
		}
		draining := code == http.StatusServiceUnavailable && json.Unmarshal(body, &v) == nil &&
			(v.Status == "shutting_down" || v.Status == "draining")
		if isDrainingBody(body) != (json.Unmarshal(body, &v) == nil && (v.Status == "shutting_down" || v.Status == "draining")) {
			t.Fatalf("isDrainingBody(%q) disagrees with the JSON status", body)
		}
		want := OutcomeStatusMismatch
		switch {
		case draining:
			want = OutcomeBackendDraining
		case lo <= code && code <= hi:
			want = OutcomeCheckPassed
		}
		if got != want {
			t.Fatalf("classifyStatus(%d, %q, %v) = %v, want %v", code, body, expected, got, want)
		}
		if expected.Contains(code) != (lo <= code && code <= hi) {
			t.Fatalf("StatusRanges%v.Contains(%d) wrong", expected, code)
		}
	})
}
