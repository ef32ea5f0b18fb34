package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/lbtrust/lb/internal/leakcheck"
)

// This file holds the helpers the end-to-end tests share beyond process
// control (helpers_test.go): reading the admin /status, the JSON log, a
// steady client load and single requests sent in the background.

// backendView is the part of a /status backend these tests read.
type backendView struct {
	Address          string   `json:"address"`
	State            string   `json:"state"`
	Reason           string   `json:"reason"`
	Detail           string   `json:"detail"`
	HeldBy           string   `json:"held_by"`
	DrainSecondsLeft *float64 `json:"drain_seconds_left"`
	InFlight         int64    `json:"in_flight"`
	// ConsecutivePasses counts passing checks in a row.
	ConsecutivePasses int    `json:"consecutive_passes"`
	Requests          uint64 `json:"requests"`
	LastCheck         *struct {
		Outcome string `json:"outcome"`
		Code    int    `json:"code"`
	} `json:"last_check"`
}

// reloadView is /status's last_reload.
type reloadView struct {
	At          time.Time `json:"at"`
	OK          bool      `json:"ok"`
	Error       string    `json:"error"`
	Diagnostics []string  `json:"diagnostics"`
	Changes     []string  `json:"changes"`
}

// statusView is the part of /status these tests read.
type statusView struct {
	ShuttingDown bool `json:"shutting_down"`
	Pools        []struct {
		Name                       string        `json:"name"`
		DeregistrationDelaySeconds float64       `json:"deregistration_delay_seconds"`
		Backends                   []backendView `json:"backends"`
	} `json:"pools"`
	LastReload *reloadView `json:"last_reload"`
}

// getStatus reads the admin /status; false if it could not be read (the
// LB is not up, or gone). Safe to call from any goroutine.
func getStatus(c *http.Client, admin string) (statusView, bool) {
	var st statusView
	resp, err := c.Get("http://" + admin + "/status")
	if err != nil {
		return st, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&st) != nil {
		return st, false
	}
	return st, true
}

// backend finds a backend by address in any pool.
func (s statusView) backend(address string) (backendView, bool) {
	for _, p := range s.Pools {
		for _, b := range p.Backends {
			if b.Address == address {
				return b, true
			}
		}
	}
	return backendView{}, false
}

// addresses lists every backend of every pool.
func (s statusView) addresses() []string {
	var out []string
	for _, p := range s.Pools {
		for _, b := range p.Backends {
			out = append(out, b.Address)
		}
	}
	return out
}

// inFlight is the in-flight count over every backend.
func (s statusView) inFlight() int64 {
	var n int64
	for _, p := range s.Pools {
		for _, b := range p.Backends {
			n += b.InFlight
		}
	}
	return n
}

// backendStatus reads one backend's view from the admin /status.
func backendStatus(t *testing.T, c *http.Client, admin, address string) (backendView, bool) {
	t.Helper()
	st, ok := getStatus(c, admin)
	if !ok {
		return backendView{}, false
	}
	return st.backend(address)
}

// waitHealthy polls /status until every address is HEALTHY.
func waitHealthy(t *testing.T, c *http.Client, admin string, addresses ...string) {
	t.Helper()
	eventually(t, 15*time.Second, "backends "+strings.Join(addresses, ", ")+" healthy", func() bool {
		st, ok := getStatus(c, admin)
		if !ok {
			return false
		}
		for _, a := range addresses {
			if b, ok := st.backend(a); !ok || b.State != "healthy" {
				return false
			}
		}
		return true
	})
}

// writeFile writes a configuration (or any) file.
func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// startLB writes cfg to a fresh lb.hcl and runs the lb on it with JSON
// logs. It returns the process and the file's path (for reloads).
func startLB(t *testing.T, cfg string) (*proc, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lb.hcl")
	writeFile(t, path, cfg)
	return start(t, "-config", path, "-log-format", "json"), path
}

// startBackend runs a demo backend named name on address; extra are more
// flags (-drain-delay).
func startBackend(t *testing.T, address, name string, extra ...string) *proc {
	t.Helper()
	return start(t, append([]string{"backend", "-listen", address, "-name", name}, extra...)...)
}

// logEntry is one line of the lb's JSON log.
type logEntry map[string]any

func (e logEntry) str(key string) string {
	s, _ := e[key].(string)
	return s
}

func (e logEntry) num(key string) float64 {
	f, _ := e[key].(float64)
	return f
}

// logEntries parses the process's output as zap JSON lines, skipping any
// other line.
func (p *proc) logEntries() []logEntry {
	var out []logEntry
	for _, line := range strings.Split(p.out.String(), "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var e logEntry
		if json.Unmarshal([]byte(line), &e) == nil {
			out = append(out, e)
		}
	}
	return out
}

// findLog returns the first log entry for which match holds.
func (p *proc) findLog(match func(logEntry) bool) (logEntry, bool) {
	for _, e := range p.logEntries() {
		if match(e) {
			return e, true
		}
	}
	return nil, false
}

// transitionLogged reports whether the lb logged backend's change to state
// to with reason.
func (p *proc) transitionLogged(backend, to, reason string) bool {
	_, ok := p.findLog(func(e logEntry) bool {
		return e.str("msg") == "backend state changed" && e.str("backend") == backend &&
			e.str("to") == to && e.str("reason") == reason
	})
	return ok
}

// reply is the outcome of one request sent in the background.
type reply struct {
	code        int
	backend     string
	err         error
	sent, ended time.Time
}

// getAsync sends one GET with c in a goroutine; the channel gets its
// reply.
func getAsync(c *http.Client, url string) <-chan reply {
	ch := make(chan reply, 1)
	go func() {
		sent := time.Now()
		code, _, backend, err := httpGet(c, url)
		ch <- reply{code, backend, err, sent, time.Now()}
	}()
	return ch
}

// collect waits for every reply, failing the test after within.
func collect(t *testing.T, within time.Duration, chans []<-chan reply) []reply {
	t.Helper()
	deadline := time.After(within)
	out := make([]reply, 0, len(chans))
	for _, ch := range chans {
		select {
		case r := <-ch:
			out = append(out, r)
		case <-deadline:
			t.Fatalf("only %d of %d requests answered within %s", len(out), len(chans), within)
		}
	}
	return out
}

// loadResult is one request of the steady client load.
type loadResult struct {
	at      time.Time // when the client sent it
	status  int
	backend string
	err     error
}

// steadyLoad sends GETs from workers goroutines, each pausing pause
// between requests, until stop is closed.
type steadyLoad struct {
	mu      sync.Mutex
	results []loadResult
	stop    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
}

func startLoad(url string, workers int, pause time.Duration) *steadyLoad {
	l := &steadyLoad{stop: make(chan struct{})}
	for i := 0; i < workers; i++ {
		l.wg.Go(func() {
			c := &http.Client{Timeout: 10 * time.Second}
			defer c.CloseIdleConnections()
			for {
				select {
				case <-l.stop:
					return
				case <-time.After(pause):
				}
				at := time.Now()
				code, _, backend, err := httpGet(c, url)
				l.mu.Lock()
				l.results = append(l.results, loadResult{at, code, backend, err})
				l.mu.Unlock()
			}
		})
	}
	return l
}

// end stops the load and returns every result. It may be called again
// (from a cleanup).
func (l *steadyLoad) end() []loadResult {
	l.once.Do(func() { close(l.stop) })
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.results
}

// count is how many requests have been answered so far.
func (l *steadyLoad) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.results)
}

func (l *steadyLoad) servedBy(name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.results {
		if r.backend == name {
			n++
		}
	}
	return n
}

// failures reports (with t.Errorf, the first five) and counts the results
// that are not a 200.
func failures(t *testing.T, results []loadResult) int {
	t.Helper()
	failed := 0
	for _, r := range results {
		if r.err != nil || r.status != 200 {
			failed++
			if failed <= 5 {
				t.Errorf("request at %s: status %d, err %v", r.at.Format("15:04:05.000"), r.status, r.err)
			}
		}
	}
	return failed
}

// checkInterval is the probe interval of lbConfig's pools. A backend's
// next probe starts at most checkInterval x 1.1 (jitter) after the
// previous one.
const checkInterval = 300 * time.Millisecond

// lbConfig returns a configuration with an admin listener on admin, a
// traffic listener "public" on listener for pool "web", and pool "web"
// with the given backends, probed every checkInterval. adminExtra goes in
// the admin block, poolExtra in the pool block.
func lbConfig(admin, listener, adminExtra, poolExtra string, backends ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "admin {\n  address = %q\n%s\n}\n", admin, adminExtra)
	fmt.Fprintf(&b, "listener \"public\" {\n  address = %q\n  pool    = \"web\"\n}\n", listener)
	fmt.Fprintf(&b, "pool \"web\" {\n%s\n", poolExtra)
	fmt.Fprintf(&b, "  health_check {\n    interval            = %q\n    timeout             = \"200ms\"\n"+
		"    healthy_threshold   = 2\n    unhealthy_threshold = 2\n  }\n", checkInterval.String())
	for _, a := range backends {
		fmt.Fprintf(&b, "  backend %q {}\n", a)
	}
	b.WriteString("}\n")
	return b.String()
}

// post sends an empty POST and returns status and body.
func post(c *http.Client, url string) (int, string, error) {
	resp, err := c.Post(url, "application/json", nil)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// client returns an HTTP client with its own connection pool (closed at
// cleanup) and the given overall timeout per request.
func client(t *testing.T, timeout time.Duration) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: timeout}
}

// noGoroutinesLeft makes the test fail if a goroutine this process
// started during it (an embedded etcd, backends, clients) outlives it:
// checked at cleanup, after the cleanups registered later have run.
func noGoroutinesLeft(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, append(leakcheck.Options(), ignore)...) })
}
