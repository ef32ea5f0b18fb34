package proxy

import (
	"sync"
	"sync/atomic"
	"testing"
)

func TestRouteMatch(t *testing.T) {
	web := &Upstream{Pool: newTestPool(t, "web")}
	api := &Upstream{Pool: newTestPool(t, "api")}
	apiV2 := &Upstream{Pool: newTestPool(t, "api-v2")}
	static := &Upstream{Pool: newTestPool(t, "static")}
	anyAPI := &Upstream{Pool: newTestPool(t, "any-api")}
	tbl := compile(Routes{
		Default: web,
		Routes: []Route{
			{Host: "API.example.com", PathPrefix: "/v2/", Upstream: apiV2},
			{Host: "api.example.com:8443", Upstream: api}, // port ignored
			{Host: "static.example.com.", Upstream: static},
			{PathPrefix: "/api/", Upstream: anyAPI},
			{PathPrefix: "/api/never", Upstream: api}, // shadowed: first match wins
		},
	}, nil)
	tests := []struct {
		host, path string
		want       *Upstream
	}{
		{"api.example.com", "/v2/users", apiV2},
		{"Api.Example.Com:8080", "/v2/", apiV2},
		{"api.example.com", "/v2", api}, // prefix is byte-wise: "/v2" lacks the slash
		{"api.example.com", "/", api},
		{"api.example.com.", "/x", api}, // trailing dot
		{"static.example.com", "/img.png", static},
		{"STATIC.example.com:80", "/", static},
		{"other.example.com", "/api/never", anyAPI},
		{"", "/api/x", anyAPI},
		{"", "/API/x", web}, // path prefix is case-sensitive
		{"other.example.com", "/", web},
		{"", "", web},
		{"[::1]:8080", "/", web},
		{"api.example.com.evil", "/", web},
	}
	names := map[*Upstream]string{web: "web", api: "api", apiV2: "api-v2", static: "static", anyAPI: "any-api"}
	for _, tt := range tests {
		got := tbl.match([]byte(tt.host), []byte(tt.path))
		if got == nil || got.pool != tt.want.Pool {
			gotName := "<nil>"
			if got != nil {
				gotName = got.pool.Name()
			}
			t.Errorf("match(%q, %q) = %s, want %s", tt.host, tt.path, gotName, names[tt.want])
		}
	}

	// Without a default, an unmatched request has no upstream.
	if up := compile(Routes{Routes: []Route{{Host: "a", Upstream: web}}}, nil).match([]byte("b"), []byte("/")); up != nil {
		t.Errorf("no default: got pool %s, want nil", up.pool.Name())
	}
}

func TestHostOnly(t *testing.T) {
	for in, want := range map[string]string{
		"example.com":       "example.com",
		"example.com:8080":  "example.com",
		"example.com.":      "example.com",
		"example.com.:80":   "example.com",
		"[::1]:443":         "[::1]",
		"[::1]":             "[::1]",
		"[::1":              "[::1",
		"":                  "",
		"127.0.0.1:9000":    "127.0.0.1",
		".":                 ".",
		"Mixed.Case.Host:1": "Mixed.Case.Host",
	} {
		if got := string(hostOnly([]byte(in))); got != want {
			t.Errorf("hostOnly(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRoutingEndToEnd routes real requests through the server and checks
// which backend answered.
func TestRoutingEndToEnd(t *testing.T) {
	var n atomic.Int64
	web := &Upstream{Pool: newTestPool(t, "web", okBackend(t, "web", &n))}
	api := &Upstream{Pool: newTestPool(t, "api", okBackend(t, "api", &n))}
	h := NewHandler("public", Routes{Default: web, Routes: []Route{
		{Host: "api.example.com", Upstream: api},
		{PathPrefix: "/api/", Upstream: api},
	}}, nil)
	l := startLB(t, h, ServerOptions{})
	for _, tt := range []struct{ host, path, want string }{
		{"api.example.com", "/", "api"},
		{"www.example.com", "/api/x", "api"},
		{"www.example.com", "/", "web"},
	} {
		resp := l.get(t, tt.host, tt.path)
		if resp.StatusCode() != 200 || string(resp.Body()) != tt.want {
			t.Errorf("%s%s: %d %q, want 200 %q", tt.host, tt.path, resp.StatusCode(), resp.Body(), tt.want)
		}
	}

	// No default and no match: 404 with a JSON body.
	h.SetRoutes(Routes{Routes: []Route{{Host: "api.example.com", Upstream: api}}})
	wantJSONError(t, l.get(t, "www.example.com", "/"), 404, "no route", "")
	checkReleased(t, web.Pool)
	checkReleased(t, api.Pool)
}

// TestSetRoutesWhileServing swaps tables under load (run with -race).
func TestSetRoutesWhileServing(t *testing.T) {
	var n atomic.Int64
	a := &Upstream{Pool: newTestPool(t, "a", okBackend(t, "a", &n))}
	b := &Upstream{Pool: newTestPool(t, "b", okBackend(t, "b", &n))}
	h := NewHandler("public", Routes{Default: a}, nil)
	l := startLB(t, h, ServerOptions{})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if i%2 == 0 {
				h.SetRoutes(Routes{Default: b})
			} else {
				h.SetRoutes(Routes{Default: a})
			}
		}
	}()
	for i := 0; i < 50; i++ {
		resp := l.get(t, "x", "/")
		if body := string(resp.Body()); resp.StatusCode() != 200 || (body != "a" && body != "b") {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode(), body)
		}
	}
	close(stop)
	wg.Wait()
}
