package admin

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbtrust/lb/pool"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// post sends POST url with an optional Authorization header and returns
// the status, the WWW-Authenticate header and the body.
func post(t *testing.T, url, authorization string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body
}

const testToken = "s3cret-t0ken"

// tokenHandler serves a handler whose drain, undrain and reload act on a
// real pool (backend b) and count reloads.
func tokenHandler(t *testing.T, log *zap.Logger) (addr string, p *pool.Pool, b *pool.Backend, reloads *atomic.Int32, h *Handler) {
	t.Helper()
	p, b = testPool(t)
	b.ObserveCheck(pool.CheckResult{Outcome: pool.ReasonCheckPassed, Code: 200})
	reloads = new(atomic.Int32)
	act := func(f func(string) error) func(string, string) (pool.BackendStatus, error) {
		return func(_, address string) (pool.BackendStatus, error) {
			if err := f(address); err != nil {
				return pool.BackendStatus{}, err
			}
			return p.Status().Backends[0], nil
		}
	}
	h = New(Options{
		Pools:   func() []*pool.Pool { return []*pool.Pool{p} },
		Drain:   act(p.Drain),
		Undrain: act(p.Undrain),
		Reload:  func() error { reloads.Add(1); return nil },
		Token:   testToken,
		Log:     log,
	})
	return serveAdmin(t, h), p, b, reloads, h
}

func TestTokenGuardsMutatingEndpoints(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	addr, _, b, reloads, h := tokenHandler(t, zap.New(core))
	if !h.TokenRequired() {
		t.Fatal("TokenRequired() = false with a token set")
	}
	drain := "http://" + addr + "/pools/web/backends/" + b.Address() + "/drain"
	reload := "http://" + addr + "/reload"

	refused := []struct {
		name, auth, challenge string
	}{
		{"no header", "", `Bearer realm="lb-admin"`},
		{"wrong token", "Bearer nope", `Bearer realm="lb-admin", error="invalid_token"`},
		{"token as a prefix", "Bearer " + testToken[:4], `Bearer realm="lb-admin", error="invalid_token"`},
		{"token with extra", "Bearer " + testToken + "x", `Bearer realm="lb-admin", error="invalid_token"`},
		{"basic scheme", "Basic " + testToken, `Bearer realm="lb-admin"`},
		{"scheme only", "Bearer ", `Bearer realm="lb-admin"`},
	}
	for _, tt := range refused {
		for _, url := range []string{drain, reload} {
			code, challenge, body := post(t, url, tt.auth)
			var eb errorBody
			if err := json.Unmarshal(body, &eb); err != nil || !strings.Contains(eb.Error, "unauthorized") {
				t.Errorf("%s: POST %s: body %s is not a JSON unauthorized error", tt.name, url, body)
			}
			if code != 401 || challenge != tt.challenge {
				t.Errorf("%s: POST %s: %d %q, want 401 %q", tt.name, url, code, challenge, tt.challenge)
			}
			if bytes.Contains(body, []byte(testToken)) {
				t.Errorf("%s: the answer shows the token: %s", tt.name, body)
			}
		}
		if st := b.State(); st != pool.StateHealthy {
			t.Fatalf("%s: a refused drain changed the backend to %s", tt.name, st)
		}
		if n := reloads.Load(); n != 0 {
			t.Fatalf("%s: a refused reload ran %d times", tt.name, n)
		}
	}

	// The right token, any case of the scheme.
	// Nothing in flight: the drain ends at once.
	if code, _, body := post(t, drain, "Bearer "+testToken); code != 200 || b.State() != pool.StateDrained {
		t.Fatalf("drain with the token: %d %s, state %s", code, body, b.State())
	}
	undrain := strings.TrimSuffix(drain, "drain") + "undrain"
	if code, _, body := post(t, undrain, "bearer "+testToken); code != 200 || b.State() != pool.StateInitial {
		t.Fatalf("undrain with the token: %d %s, state %s", code, body, b.State())
	}
	if code, _, _ := post(t, reload, "Bearer "+testToken); code != 200 || reloads.Load() != 1 {
		t.Fatalf("reload with the token: %d, %d reloads", code, reloads.Load())
	}

	// Refusals are logged, the token never is.
	if n := logs.FilterMessage("admin: refused unauthenticated request").Len(); n != 2*len(refused) {
		t.Errorf("%d refusal log lines, want %d", n, 2*len(refused))
	}
	for _, e := range logs.All() {
		line, _ := json.Marshal(e.ContextMap())
		if strings.Contains(e.Message+string(line), testToken) {
			t.Errorf("a log line shows the token: %s %s", e.Message, line)
		}
	}
}

// TestReadOnlyEndpointsStayOpen: probes and viewers need no token.
func TestReadOnlyEndpointsStayOpen(t *testing.T) {
	addr, _, _, _, _ := tokenHandler(t, nil)
	for _, path := range []string{"/healthz", "/readyz", "/status", "/events"} {
		var raw map[string]any
		code := get(t, "http://"+addr+path, &raw)
		if code != 200 {
			t.Errorf("GET %s without a token: %d, want 200", path, code)
		}
		if b, _ := json.Marshal(raw); bytes.Contains(b, []byte(testToken)) {
			t.Errorf("GET %s shows the token: %s", path, b)
		}
	}
	// A wrong method on a mutating path stays 405, token or not: nothing
	// would run anyway.
	if code := get(t, "http://"+addr+"/reload", nil); code != 405 {
		t.Errorf("GET /reload: %d, want 405", code)
	}
}

func TestSetTokenRotatesAndClears(t *testing.T) {
	addr, _, _, reloads, h := tokenHandler(t, nil)
	reload := "http://" + addr + "/reload"
	h.SetToken("new-token")
	if code, _, _ := post(t, reload, "Bearer "+testToken); code != 401 {
		t.Errorf("old token after rotation: %d, want 401", code)
	}
	if code, _, _ := post(t, reload, "Bearer new-token"); code != 200 {
		t.Errorf("new token: %d, want 200", code)
	}
	h.SetToken("")
	if h.TokenRequired() {
		t.Error("TokenRequired() after SetToken(\"\")")
	}
	if code, _, _ := post(t, reload, ""); code != 200 {
		t.Errorf("no token needed: %d, want 200", code)
	}
	if reloads.Load() != 2 {
		t.Errorf("%d reloads ran, want 2", reloads.Load())
	}
}

func TestWithoutTokenMutatingEndpointsAreOpen(t *testing.T) {
	p, b := testPool(t)
	h := New(Options{
		Pools: func() []*pool.Pool { return []*pool.Pool{p} },
		Drain: func(_, address string) (pool.BackendStatus, error) { return pool.BackendStatus{}, p.Drain(address) },
	})
	if h.TokenRequired() {
		t.Fatal("TokenRequired() without a token")
	}
	addr := serveAdmin(t, h)
	if code, _, body := post(t, "http://"+addr+"/pools/web/backends/"+b.Address()+"/drain", ""); code != 200 {
		t.Fatalf("drain without a token configured: %d %s", code, body)
	}
}

func TestBearer(t *testing.T) {
	for _, tt := range []struct {
		header, token string
		ok            bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER   abc  ", "abc", true},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Bearerabc", "", false},
		{"Basic abc", "", false},
		{"", "", false},
	} {
		tok, ok := bearer([]byte(tt.header))
		if string(tok) != tt.token || ok != tt.ok {
			t.Errorf("bearer(%q) = %q, %v; want %q, %v", tt.header, tok, ok, tt.token, tt.ok)
		}
	}
}
