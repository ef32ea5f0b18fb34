package admin

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"testing"
	"time"
)

// fetch sends GET url with an optional bearer token and returns the
// status and the body.
func fetch(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// TestPprofCPUProfile fetches a one-second CPU profile the way
// `go tool pprof` does and checks that it is one: a gzipped protobuf
// whose string table names the cpu/nanoseconds sample type.
func TestPprofCPUProfile(t *testing.T) {
	addr := serveAdmin(t, New(Options{Pprof: true}))
	code, body := fetch(t, "http://"+addr+"/debug/pprof/profile?seconds=1", "")
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("not gzip (%v): %.200q", err, body)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"cpu", "nanoseconds", "samples"} {
		if !bytes.Contains(raw, []byte(s)) {
			t.Errorf("the profile does not name %q (%d bytes)", s, len(raw))
		}
	}
}

func TestPprofOffByDefaultAndSwitchable(t *testing.T) {
	h := New(Options{})
	addr := serveAdmin(t, h)
	url := "http://" + addr + "/debug/pprof/"
	if code, _ := fetch(t, url, ""); code != 404 {
		t.Fatalf("pprof off: %s answered %d, want 404", url, code)
	}
	h.SetPprof(true)
	if code, body := fetch(t, url, ""); code != 200 || !bytes.Contains(body, []byte("goroutine")) {
		t.Fatalf("pprof on: %s answered %d: %.200s", url, code, body)
	}
	if code, _, _ := post(t, url+"heap", ""); code != 405 {
		t.Errorf("POST %sheap answered %d, want 405", url, code)
	}
	h.SetPprof(false)
	if code, _ := fetch(t, url+"heap", ""); code != 404 {
		t.Errorf("pprof off again: heap answered %d, want 404", code)
	}
}

func TestPprofNeedsTheTokenWhenSet(t *testing.T) {
	h := New(Options{Pprof: true, Token: testToken})
	addr := serveAdmin(t, h)
	url := "http://" + addr + "/debug/pprof/heap"
	if code, _ := fetch(t, url, ""); code != 401 {
		t.Errorf("no token: %d, want 401", code)
	}
	if code, _ := fetch(t, url, "wrong"); code != 401 {
		t.Errorf("wrong token: %d, want 401", code)
	}
	if code, body := fetch(t, url, testToken); code != 200 || len(body) == 0 {
		t.Errorf("with the token: %d, %d bytes", code, len(body))
	}
}
