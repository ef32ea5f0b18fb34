package admin

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lbtrust/lb/pool"
)

// TestStatusPageIsSelfContained: GET / is a 200 HTML page that references
// nothing outside itself.
func TestStatusPageIsSelfContained(t *testing.T) {
	addr := serveAdmin(t, New(Options{}))
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %q, want 200 text/html", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("Content-Security-Policy = %q, want connect-src 'self'", csp)
	}
	page := string(body)
	if !strings.Contains(page, "<script>") || !strings.Contains(page, "<style>") {
		t.Error("page lacks its inline script or style")
	}
	ext := regexp.MustCompile(`(?i)(src|href|action)\s*=\s*["']?\s*(https?:)?//`)
	if m := ext.FindString(page); m != "" {
		t.Errorf("page references an external resource: %q", m)
	}
	if m := regexp.MustCompile(`(?i)https?://`).FindString(page); m != "" {
		t.Errorf("page contains an absolute URL %q: it must only call its own origin", m)
	}
	if m := regexp.MustCompile(`(?i)<script[^>]+src|<link[^>]+href|@import|url\(`).FindString(page); m != "" {
		t.Errorf("page loads something from outside: %q", m)
	}
	if strings.Contains(page, "innerHTML") || strings.Contains(page, "outerHTML") ||
		strings.Contains(page, "insertAdjacentHTML") || strings.Contains(page, "document.write") {
		t.Error("page parses strings as HTML; it must use textContent")
	}

	// HEAD answers like GET without a body; POST is refused.
	req, _ := http.NewRequest(http.MethodHead, "http://"+addr+"/", nil)
	if resp, err := c.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("HEAD / = %v %v, want 200", resp, err)
	} else {
		resp.Body.Close()
	}
	if resp, err := c.Post("http://"+addr+"/", "text/plain", nil); err != nil || resp.StatusCode != 405 {
		t.Errorf("POST / = %v %v, want 405", resp, err)
	} else {
		resp.Body.Close()
	}
}

// TestStatusPageCallsOnlyExistingEndpoints: every API path the page's
// script names answers as the page expects it to.
func TestStatusPageCallsOnlyExistingEndpoints(t *testing.T) {
	p, b := testPool(t)
	var drained, undrained []string
	h := New(Options{
		Pools: func() []*pool.Pool { return []*pool.Pool{p} },
		Drain: func(pl, a string) (pool.BackendStatus, error) {
			drained = append(drained, pl+" "+a)
			return pool.BackendStatus{Address: a}, nil
		},
		Undrain: func(pl, a string) (pool.BackendStatus, error) {
			undrained = append(undrained, pl+" "+a)
			return pool.BackendStatus{Address: a}, nil
		},
	})
	addr := serveAdmin(t, h)

	script := string(statusPage)
	i := strings.Index(script, "<script>")
	if i < 0 {
		t.Fatal("no inline script")
	}
	script = script[i:]
	// Every fetch goes through a path held in API.
	for _, m := range regexp.MustCompile(`fetch\(([^,)]*)`).FindAllStringSubmatch(script, -1) {
		if arg := strings.TrimSpace(m[1]); arg != "path" {
			t.Errorf("fetch(%s): the page must fetch only paths from its API table", arg)
		}
	}
	paths := regexp.MustCompile(`"(/[a-z][^"\s]*)"`).FindAllStringSubmatch(script, -1)
	if len(paths) < 3 {
		t.Fatalf("found %d API paths in the script, want at least status, events and action", len(paths))
	}
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	seen := map[string]bool{}
	for _, m := range paths {
		tmpl := m[1]
		seen[strings.SplitN(tmpl, "?", 2)[0]] = true
		if strings.Contains(tmpl, "{action}") {
			for _, action := range []string{"drain", "undrain"} {
				// The page escapes each segment with encodeURIComponent.
				u := strings.NewReplacer("{pool}", "web", "{address}", strings.ReplaceAll(b.Address(), ":", "%3A"),
					"{action}", action).Replace(tmpl)
				resp, err := c.Post("http://"+addr+u, "", nil)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("POST %s = %d, want 200", u, resp.StatusCode)
				}
			}
			continue
		}
		var into map[string]any
		if code := get(t, "http://"+addr+tmpl, &into); code != 200 {
			t.Errorf("GET %s = %d, want 200", tmpl, code)
		}
	}
	for _, want := range []string{"/status", "/events", "/pools/{pool}/backends/{address}/{action}"} {
		if !seen[want] {
			t.Errorf("the page does not call %s", want)
		}
	}
	if len(drained) != 1 || drained[0] != "web "+b.Address() || len(undrained) != 1 {
		t.Errorf("drain calls %q, undrain calls %q: want one each for web %s", drained, undrained, b.Address())
	}
}
