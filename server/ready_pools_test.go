package server

import (
	"encoding/json"
	"net/http"
	"os"
	"testing"
)

// readyzBody is what these tests read of /readyz.
type readyzBody struct {
	Status string `json:"status"`
	Checks map[string]struct {
		Status string `json:"status"`
		Detail string `json:"detail"`
	} `json:"checks"`
}

// getReadyz asks url for /readyz and decodes its body.
func getReadyz(t *testing.T, url string) (int, readyzBody) {
	t.Helper()
	code, body := adminDo(t, http.MethodGet, url, "")
	var b readyzBody
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatalf("/readyz: %v: %s", err, body)
	}
	return code, b
}

// TestReadyPoolsThroughServer: pool web serves, pool api's only backend
// refuses connections. ready_pools = "every" makes /readyz 503; a reload
// to "any" makes it 200 at once, says so in the reload's changes, and
// touches nothing else.
func TestReadyPoolsThroughServer(t *testing.T) {
	b1 := startBackend(t, "b1")
	file := func(rule string) string {
		return adminConfig("  ready_pools = \""+rule+"\"\n", b1.Addr()) + poolBlock("api", "100ms", "127.0.0.1:9")
	}
	lb, path, _ := runFromFile(t, file("every"))
	waitFor(t, "b1 healthy", healthy(lb, "web", b1.Addr()))
	readyz := "http://" + lb.AdminAddr().String() + "/readyz"
	if code, b := getReadyz(t, readyz); code != 503 || b.Status != "degraded" || b.Checks["pools"].Status != "fail" ||
		b.Checks["pools"].Detail != `1 of 2 pools have a healthy backend; ready_pools = "every"` {
		t.Fatalf("ready_pools every, api down: %d %+v", code, b)
	}

	if err := os.WriteFile(path, []byte(file("any")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := lb.ReloadFile(); err != nil {
		t.Fatal(err)
	}
	if st := lb.LastReload(); len(st.Changes) != 1 || st.Changes[0] != "admin: ready_pools every -> any" {
		t.Errorf("changes %q", st.Changes)
	}
	if code, b := getReadyz(t, readyz); code != 200 || b.Status != "ok" || b.Checks["pool:api"].Status != "fail" || b.Checks["pools"].Status != "ok" {
		t.Fatalf("ready_pools any, api down: %d %+v", code, b)
	}
}
