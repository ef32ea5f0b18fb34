package server

import (
	"net/http"
	"os"
	"testing"
)

// TestAdminPprofThroughServer: admin { pprof = true } serves the profiles
// on the admin listener, and a reload turns them off.
func TestAdminPprofThroughServer(t *testing.T) {
	b1 := startBackend(t, "b1")
	lb, path, _ := runFromFile(t, adminConfig("  pprof = true\n", b1.Addr()))
	url := "http://" + lb.AdminAddr().String() + "/debug/pprof/"
	if code, body := adminDo(t, http.MethodGet, url, ""); code != 200 {
		t.Fatalf("pprof = true: GET %s answered %d: %.200s", url, code, body)
	}
	if err := os.WriteFile(path, []byte(adminConfig("", b1.Addr())), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := lb.ReloadFile(); err != nil {
		t.Fatal(err)
	}
	if st := lb.LastReload(); len(st.Changes) != 1 || st.Changes[0] != "admin: pprof true -> false" {
		t.Errorf("changes %q", st.Changes)
	}
	if code, _ := adminDo(t, http.MethodGet, url, ""); code != 404 {
		t.Errorf("after the reload: GET %s answered %d, want 404", url, code)
	}
}
