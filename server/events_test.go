package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/events"
	"github.com/lbtrust/lb/pool"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// runFromFile writes src to lb.hcl in a temporary directory and runs an
// LB from it (so POST /reload can re-read it), logging into an observer.
func runFromFile(t *testing.T, src string) (lb *LB, path string, logs *observer.ObservedLogs) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "lb.hcl")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, diags := config.Load(path)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	core, logs := observer.New(zap.DebugLevel)
	return startLB(t, cfg, Options{Version: "test", ConfigPath: path, Log: zap.New(core)}), path, logs
}

// adminDo sends method url to the admin listener with an optional bearer
// token; it returns the status and body.
func adminDo(t *testing.T, method, url, token string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
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
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// eventsOf reads GET /events with query.
func eventsOf(t *testing.T, lb *LB, query string) []events.Event {
	t.Helper()
	code, body := adminDo(t, http.MethodGet, "http://"+lb.AdminAddr().String()+"/events"+query, "")
	if code != 200 {
		t.Fatalf("GET /events%s: %d %s", query, code, body)
	}
	var b struct {
		Events []events.Event `json:"events"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatalf("GET /events%s: %v: %s", query, err, body)
	}
	return b.Events
}

// backendEntry is the part of a backend's /status entry these tests read.
type backendEntry struct {
	Address  string `json:"address"`
	State    string `json:"state"`
	Reason   string `json:"reason"`
	Detail   string `json:"detail"`
	HeldBy   string `json:"held_by"`
	InFlight int64  `json:"in_flight"`
	Upgraded int64  `json:"upgraded"`
}

// statusOf reads the entry of the backend at address, in any pool, from
// GET /status.
func statusOf(t *testing.T, lb *LB, address string) backendEntry {
	t.Helper()
	code, body := adminDo(t, http.MethodGet, "http://"+lb.AdminAddr().String()+"/status", "")
	if code != 200 {
		t.Fatalf("/status %d", code)
	}
	var st struct {
		Pools []struct {
			Backends []backendEntry `json:"backends"`
		} `json:"pools"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatal(err)
	}
	for _, p := range st.Pools {
		for _, b := range p.Backends {
			if b.Address == address {
				return b
			}
		}
	}
	t.Fatalf("no %s in /status", address)
	return backendEntry{}
}

func adminConfig(adminBody string, backends ...string) string {
	return "admin {\n  address = \"127.0.0.1:0\"\n" + adminBody + "}\n" +
		fmt.Sprintf(listenerBlock, "") + poolBlock("web", "100ms", backends...)
}

// TestEventsTrailThroughAdmin: transitions, an operator drain and reloads
// show up at /events, newest first, filtered by backend.
func TestEventsTrailThroughAdmin(t *testing.T) {
	b1, b2 := startBackend(t, "b1"), startBackend(t, "b2")
	src := adminConfig("", b1.Addr(), b2.Addr())
	lb, path, logs := runFromFile(t, src)
	waitFor(t, "b1 healthy", healthy(lb, "web", b1.Addr()))
	waitFor(t, "b2 healthy", healthy(lb, "web", b2.Addr()))
	admin := "http://" + lb.AdminAddr().String()

	code, body := adminDo(t, http.MethodPost, admin+"/pools/web/backends/"+b1.Addr()+"/drain", "")
	if code != 200 {
		t.Fatalf("drain: %d %s", code, body)
	}

	got := eventsOf(t, lb, "?backend="+b1.Addr())
	if len(got) < 3 {
		t.Fatalf("events for b1: %+v", got)
	}
	for i, e := range got {
		if e.Backend != b1.Addr() || e.Pool != "web" {
			t.Errorf("event %d is not about web/b1: %+v", i, e)
		}
		if i > 0 && e.Seq >= got[i-1].Seq {
			t.Errorf("not newest first: seq %d after %d", e.Seq, got[i-1].Seq)
		}
	}
	drain := got[0]
	if drain.Kind != events.KindDrain || drain.From != "healthy" || drain.Reason != "admin_drain" ||
		(drain.To != "draining" && drain.To != "drained") {
		t.Errorf("newest b1 event is not the operator drain: %+v", drain)
	}
	var sawDrainTransition bool
	for _, e := range got[1:] {
		if e.Kind == events.KindTransition && e.From == "healthy" && e.To == "draining" && e.Reason == "admin_drain" {
			sawDrainTransition = true
		}
	}
	if !sawDrainTransition {
		t.Errorf("no healthy -> draining (admin_drain) transition: %+v", got)
	}
	first := got[len(got)-1]
	if first.Kind != events.KindTransition || first.From != "initial" || first.To != "healthy" ||
		first.Reason != "initial_check" || first.ProbeLatencyMS <= 0 {
		t.Errorf("oldest b1 event is not its first passing probe with a latency: %+v", first)
	}

	if l := eventsOf(t, lb, "?backend="+b1.Addr()+"&limit=1"); len(l) != 1 || l[0].Seq != drain.Seq {
		t.Errorf("limit=1: %+v", l)
	}
	for _, e := range eventsOf(t, lb, "?backend="+b2.Addr()) {
		if e.Backend != b2.Addr() || e.Kind == events.KindDrain {
			t.Errorf("b2's events hold %+v", e)
		}
	}

	// Undrain, then an invalid and a valid reload.
	if code, body := adminDo(t, http.MethodPost, admin+"/pools/web/backends/"+b1.Addr()+"/undrain", ""); code != 200 {
		t.Fatalf("undrain: %d %s", code, body)
	}
	if e := eventsOf(t, lb, "?limit=1")[0]; e.Kind != events.KindUndrain || e.Reason != "admin_undrain" || e.To != "initial" {
		t.Errorf("newest event after undrain: %+v", e)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(src, "deregistration_delay", "deregistration_dely", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _ := adminDo(t, http.MethodPost, admin+"/reload", ""); code != 400 {
		t.Fatalf("invalid reload: %d", code)
	}
	if e := eventsOf(t, lb, "?limit=1")[0]; e.Kind != events.KindReload || e.Reason != events.ReloadInvalidConfiguration ||
		len(e.Diagnostics) != 1 || !strings.Contains(e.Diagnostics[0], "lb.hcl:") || e.Backend != "" {
		t.Errorf("newest event after an invalid reload: %+v", e)
	}
	if err := os.WriteFile(path, []byte(adminConfig("", b1.Addr())), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, body := adminDo(t, http.MethodPost, admin+"/reload", ""); code != 200 {
		t.Fatalf("reload: %d %s", code, body)
	}
	all := eventsOf(t, lb, "")
	if e := all[0]; e.Kind != events.KindReload || e.Reason != events.ReloadApplied || !strings.Contains(strings.Join(e.Changes, ";"), "removed") {
		t.Errorf("newest event after a reload: %+v", e)
	}
	var sawRemoval bool
	for _, e := range all {
		if e.Backend == b2.Addr() && e.Reason == "removed_from_config" {
			sawRemoval = true
		}
	}
	if !sawRemoval {
		t.Errorf("no removed_from_config transition for b2 in %+v", all)
	}
	refused := lb.Reload(mustParse(t, strings.Replace(adminConfig("", b1.Addr()), "127.0.0.1:0", "127.0.0.1:1", 1)))
	if e := eventsOf(t, lb, "?limit=1")[0]; refused == nil || e.Reason != events.ReloadRefused || !strings.Contains(e.Detail, "needs a restart") {
		t.Errorf("refused reload %v, event %+v", refused, e)
	}

	// One log line per operator action and reload, and the transitions
	// logged once (by the pool), not again by the trail.
	if n := logs.FilterMessage("operator drained backend").Len(); n != 1 {
		t.Errorf("%d operator drain lines, want 1", n)
	}
	if n := logs.FilterMessage("operator lifted drain").Len(); n != 1 {
		t.Errorf("%d operator undrain lines, want 1", n)
	}
	if n := logs.FilterMessage("configuration reloaded").Len(); n != 1 {
		t.Errorf("%d reload lines, want 1", n)
	}
	// (A checker may be between logging a transition and recording it,
	// hence the wait.)
	var transitions, recorded int
	waitFor(t, "one transition event per transition log line", func() bool {
		transitions, recorded = logs.FilterMessage("backend state changed").Len(), 0
		for _, e := range eventsOf(t, lb, "") {
			if e.Kind == events.KindTransition && !strings.HasPrefix(e.Detail, "forgotten") {
				recorded++
			}
		}
		return recorded == transitions
	})
}

func TestEventBufferBoundsTheTrail(t *testing.T) {
	b1 := startBackend(t, "b1")
	lb, path, _ := runFromFile(t, adminConfig("  event_buffer = 3\n", b1.Addr()))
	waitFor(t, "b1 healthy", healthy(lb, "web", b1.Addr()))
	admin := "http://" + lb.AdminAddr().String()
	for range 3 {
		adminDo(t, http.MethodPost, admin+"/pools/web/backends/"+b1.Addr()+"/drain", "")
		adminDo(t, http.MethodPost, admin+"/pools/web/backends/"+b1.Addr()+"/undrain", "")
	}
	if l := eventsOf(t, lb, ""); len(l) != 3 || l[0].Kind != events.KindUndrain {
		t.Fatalf("event_buffer = 3 kept %d events: %+v", len(l), l)
	}
	// A reload resizes it.
	if err := os.WriteFile(path, []byte(adminConfig("  event_buffer = 10\n", b1.Addr())), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := lb.ReloadFile(); err != nil {
		t.Fatal(err)
	}
	if st := lb.LastReload(); len(st.Changes) != 1 || st.Changes[0] != "admin: event_buffer 3 -> 10" {
		t.Errorf("changes %q", st.Changes)
	}
	for range 4 {
		adminDo(t, http.MethodPost, admin+"/pools/web/backends/"+b1.Addr()+"/drain", "")
	}
	if l := eventsOf(t, lb, ""); len(l) <= 3 || len(l) > 10 {
		t.Fatalf("event_buffer = 10 keeps %d events", len(l))
	}
}

// TestAdminTokenThroughServer: with a token, drain and reload need it,
// nothing changes without it, reads stay open, the token shows nowhere,
// and a reload rotates it.
func TestAdminTokenThroughServer(t *testing.T) {
	b1 := startBackend(t, "b1")
	dir := t.TempDir()
	tokenPath := filepath.Join(dir, "admin.token")
	const oldToken, newToken = "old-token-0123456789", "new-token-9876543210"
	if err := os.WriteFile(tokenPath, []byte(oldToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := adminConfig(fmt.Sprintf("  token_file = %q\n", tokenPath), b1.Addr())
	lb, _, logs := runFromFile(t, src)
	waitFor(t, "b1 healthy", healthy(lb, "web", b1.Addr()))
	admin := "http://" + lb.AdminAddr().String()
	drain := admin + "/pools/web/backends/" + b1.Addr() + "/drain"

	for _, tok := range []string{"", "wrong", newToken} {
		if code, body := adminDo(t, http.MethodPost, drain, tok); code != 401 || !strings.Contains(string(body), "unauthorized") {
			t.Fatalf("drain with token %q: %d %s, want 401", tok, code, body)
		}
		if code, _ := adminDo(t, http.MethodPost, admin+"/reload", tok); code != 401 {
			t.Fatalf("reload with token %q: %d, want 401", tok, code)
		}
	}
	if b, _ := stateOf(lb, "web", b1.Addr()); b.State != pool.StateHealthy {
		t.Fatalf("refused drains changed the backend: %+v", b)
	}
	if st := lb.LastReload(); !st.At.IsZero() {
		t.Fatalf("a refused reload ran: %+v", st)
	}
	for _, e := range eventsOf(t, lb, "") {
		if e.Kind != events.KindTransition {
			t.Fatalf("a refused request left an event: %+v", e)
		}
	}
	for _, path := range []string{"/healthz", "/readyz", "/status", "/events"} {
		code, body := adminDo(t, http.MethodGet, admin+path, "")
		if code != 200 {
			t.Errorf("GET %s without a token: %d", path, code)
		}
		if strings.Contains(string(body), oldToken) {
			t.Errorf("GET %s shows the token", path)
		}
	}

	if code, body := adminDo(t, http.MethodPost, drain, oldToken); code != 200 {
		t.Fatalf("drain with the token: %d %s", code, body)
	}
	if b, _ := stateOf(lb, "web", b1.Addr()); b.State != pool.StateDraining && b.State != pool.StateDrained {
		t.Fatalf("drain with the token did not drain: %+v", b)
	}

	// Rotate: write the new token, reload with the old one.
	if err := os.WriteFile(tokenPath, []byte(newToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, body := adminDo(t, http.MethodPost, admin+"/reload", oldToken)
	if code != 200 || !strings.Contains(string(body), "admin: token changed") {
		t.Fatalf("reload rotating the token: %d %s", code, body)
	}
	undrain := admin + "/pools/web/backends/" + b1.Addr() + "/undrain"
	if code, _ := adminDo(t, http.MethodPost, undrain, oldToken); code != 401 {
		t.Fatalf("old token after rotation: %d, want 401", code)
	}
	if code, _ := adminDo(t, http.MethodPost, undrain, newToken); code != 200 {
		t.Fatalf("new token after rotation: %d, want 200", code)
	}
	if n := logs.FilterMessage("admin: refused unauthenticated request").Len(); n != 7 {
		t.Errorf("%d refusal lines, want 7", n)
	}
	for _, e := range logs.All() {
		line, _ := json.Marshal(e.ContextMap())
		if s := e.Message + string(line); strings.Contains(s, oldToken) || strings.Contains(s, newToken) {
			t.Errorf("a log line shows a token: %s", s)
		}
	}
	for _, e := range eventsOf(t, lb, "") {
		if b, _ := json.Marshal(e); strings.Contains(string(b), oldToken) || strings.Contains(string(b), newToken) {
			t.Errorf("an event shows a token: %s", b)
		}
	}
}
