package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Helpers of the discovery end-to-end test (discovery_e2e_test.go): an
// LB configuration whose pool comes from etcd only, the `lb register`
// sidecar, a paced load spread over several LBs, and a recorder of the
// LBs' /status.

// discoveryPrefix is the etcd prefix of pool "web" in discoveryLBConfig.
const discoveryPrefix = "/lb/pools/web/"

// discoveryCheckInterval is the probe interval of discoveryLBConfig's
// pool.
const discoveryCheckInterval = 200 * time.Millisecond

// discoveryLBConfig returns a configuration with an admin listener on
// admin, a traffic listener "public" on listener, and pool "web" whose
// backends come only from the etcd member at etcdAddr (discoveryPrefix),
// probed on /readyz every discoveryCheckInterval. unhealthy_threshold is
// 10, so a new backend whose first checks fail for less than about 2 s
// stays INITIAL until its first passing one (warmingBackend).
func discoveryLBConfig(admin, listener, etcdAddr string) string {
	return fmt.Sprintf(`admin {
  address = %q
}
listener "public" {
  address = %q
  pool    = "web"
}
pool "web" {
  deregistration_delay = "10s"
  health_check {
    interval            = %q
    timeout             = "150ms"
    healthy_threshold   = 2
    unhealthy_threshold = 10
  }
  discovery "etcd" {
    endpoints = [%q]
    prefix    = %q
  }
}
`, admin, listener, discoveryCheckInterval.String(), etcdAddr, discoveryPrefix)
}

// sidecarTTL is the lease TTL of startSidecar's registrations.
const sidecarTTL = 2 * time.Second

// startSidecar runs `lb register` for the backend at address under
// discoveryPrefix of the etcd member at etcdAddr, checking the backend's
// /readyz every 200ms, with a lease of sidecarTTL.
func startSidecar(t *testing.T, etcdAddr, address string) *proc {
	t.Helper()
	return startSidecarChecking(t, etcdAddr, address, "/readyz")
}

// startSidecarChecking is startSidecar with the backend's readiness path.
func startSidecarChecking(t *testing.T, etcdAddr, address, path string) *proc {
	t.Helper()
	return start(t, "register", "-etcd", etcdAddr, "-prefix", discoveryPrefix, "-address", address,
		"-ttl", sidecarTTL.String(), "-check", "http://"+address+path, "-check-interval", "200ms",
		"-log-format", "json")
}

// sourceView is a pool's discovery source in /status.
type sourceView struct {
	Source   string `json:"source"`
	State    string `json:"state"`
	Backends int    `json:"backends"`
}

// poolSources reads the discovery sources of pool in the admin /status;
// false if /status could not be read or has no such pool.
func poolSources(c *http.Client, admin, pool string) ([]sourceView, bool) {
	resp, err := c.Get("http://" + admin + "/status")
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	var st struct {
		Pools []struct {
			Name      string       `json:"name"`
			Discovery []sourceView `json:"discovery"`
		} `json:"pools"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&st) != nil {
		return nil, false
	}
	for _, p := range st.Pools {
		if p.Name == pool {
			return p.Discovery, true
		}
	}
	return nil, false
}

// lbResult is one request of a spreadLoad.
type lbResult struct {
	lb          int // index of the LB it was sent to
	sent, ended time.Time
	status      int
	backend     string // X-Backend of the answer
	err         error
}

// failed reports whether the request did not get a 200.
func (r lbResult) failed() bool { return r.err != nil || r.status != 200 }

// spreadLoad is an open-loop GET load at a constant pace whose requests
// go to several URLs in turn (request i to urls[i % len(urls)]). A slow
// answer does not slow the sending down; at most 256 requests are
// outstanding at once. Each URL has its own Transport.
type spreadLoad struct {
	mu      sync.Mutex
	results []lbResult
	stop    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
	trs     []*http.Transport
	began   time.Time
	ended   time.Time
}

// startSpreadLoad sends rate GETs per second in turn to urls until end;
// it is ended at cleanup. Requests due while the sender was late go out
// at once, so the rate holds on average.
func startSpreadLoad(t *testing.T, rate int, urls ...string) *spreadLoad {
	l := &spreadLoad{stop: make(chan struct{}), began: time.Now()}
	clients := make([]*http.Client, len(urls))
	for i := range urls {
		tr := &http.Transport{MaxIdleConnsPerHost: 64}
		l.trs = append(l.trs, tr)
		clients[i] = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	}
	t.Cleanup(func() { l.end() })
	sem := make(chan struct{}, 256)
	every := time.Second / time.Duration(rate)
	l.wg.Go(func() {
		timer := time.NewTimer(0)
		defer timer.Stop()
		for i := 0; ; i++ {
			if wait := time.Until(l.began.Add(time.Duration(i) * every)); wait > 0 {
				timer.Reset(wait)
				select {
				case <-l.stop:
					return
				case <-timer.C:
				}
			}
			select {
			case sem <- struct{}{}:
			case <-l.stop:
				return
			}
			k := i % len(urls)
			l.wg.Go(func() {
				defer func() { <-sem }()
				r := lbResult{lb: k, sent: time.Now()}
				r.status, _, r.backend, r.err = httpGet(clients[k], urls[k])
				r.ended = time.Now()
				l.mu.Lock()
				l.results = append(l.results, r)
				l.mu.Unlock()
			})
		}
	})
	return l
}

// end stops the load, waits for the requests outstanding and returns
// every result; it may be called again.
func (l *spreadLoad) end() []lbResult {
	l.once.Do(func() {
		close(l.stop)
		l.wg.Wait()
		l.ended = time.Now()
		for _, tr := range l.trs {
			tr.CloseIdleConnections()
		}
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.results)
}

// count is how many requests have been answered so far.
func (l *spreadLoad) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.results)
}

// servedVia counts the 200s that backend name answered through LB lb.
func (l *spreadLoad) servedVia(lb int, name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.results {
		if r.lb == lb && r.backend == name && r.status == 200 {
			n++
		}
	}
	return n
}

// waitMore waits until n more requests than now have been answered.
func (l *spreadLoad) waitMore(t *testing.T, n int) {
	t.Helper()
	target := l.count() + n
	eventually(t, 60*time.Second, fmt.Sprintf("%d more requests answered", n), func() bool {
		return l.count() >= target
	})
}

// lastSentTo is the send time of the latest request through LB lb that
// backend name answered; zero if none.
func lastSentTo(results []lbResult, lb int, name string) time.Time {
	var last time.Time
	for _, r := range results {
		if r.lb == lb && r.backend == name && r.sent.After(last) {
			last = r.sent
		}
	}
	return last
}

// statusSample is one round of a statusRecorder: a counter read first
// (extra), then each LB's /status.
type statusSample struct {
	extra uint64
	lbs   []lbSample
}

// lbSample is one LB's /status in a statusSample.
type lbSample struct {
	ok       bool      // /status was read
	at       time.Time // when its answer arrived
	backends map[string]backendView
}

// statusRecorder reads the /status of several LBs in turn, every 10 ms,
// until stop, keeping each round.
type statusRecorder struct {
	mu      sync.Mutex
	samples []statusSample
	stop    chan struct{}
	once    sync.Once
	done    chan struct{}
}

// recordStatus starts a recorder of the admins' /status; extra, if not
// nil, is read at the start of every round, before any /status (the
// order matters to the assertions that compare it with the LBs' states).
// It is stopped at cleanup.
func recordStatus(t *testing.T, extra func() uint64, admins ...string) *statusRecorder {
	r := &statusRecorder{stop: make(chan struct{}), done: make(chan struct{})}
	c := client(t, 5*time.Second)
	t.Cleanup(func() { r.end() })
	go func() {
		defer close(r.done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			var s statusSample
			if extra != nil {
				s.extra = extra()
			}
			for _, a := range admins {
				st, ok := getStatus(c, a)
				ls := lbSample{ok: ok, at: time.Now(), backends: map[string]backendView{}}
				for _, p := range st.Pools {
					if p.Name == "web" {
						for _, b := range p.Backends {
							ls.backends[b.Address] = b
						}
					}
				}
				s.lbs = append(s.lbs, ls)
			}
			r.mu.Lock()
			r.samples = append(r.samples, s)
			r.mu.Unlock()
			select {
			case <-r.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return r
}

// end stops the recorder and returns every round; it may be called again.
func (r *statusRecorder) end() []statusSample {
	r.once.Do(func() { close(r.stop) })
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.samples)
}

// firstOut is when LB lb's /status first showed address out of rotation
// (present and not HEALTHY, or absent) at or after since, in a round read
// wholly after since; zero if never.
func firstOut(samples []statusSample, lb int, address string, since time.Time) time.Time {
	for _, s := range samples {
		ls := s.lbs[lb]
		if !ls.ok || ls.at.Before(since) {
			continue
		}
		if b, ok := ls.backends[address]; !ok || b.State != "healthy" {
			return ls.at
		}
	}
	return time.Time{}
}

// transitionAt is the time of the first "backend state changed" line of
// the LB's JSON log for backend to state to with reason; false if none.
func (p *proc) transitionAt(backend, to, reason string) (time.Time, bool) {
	e, ok := p.findLog(func(e logEntry) bool {
		return e.str("msg") == "backend state changed" && e.str("backend") == backend &&
			e.str("to") == to && e.str("reason") == reason
	})
	if !ok {
		return time.Time{}, false
	}
	at, err := time.Parse("2006-01-02T15:04:05.000Z0700", e.str("ts"))
	return at, err == nil
}

// warmingBackend is a backend in the test process that warms up: its
// /readyz, the LBs' health check, answers 503 until SetReady, then 200;
// /livez, its sidecar's readiness check, answers 200 from the start.
// Every other request gets a 200 tagged X-Backend: name and is counted.
// So it is registered (the sidecar's check passes) while the LBs' checks
// still fail: a window in which an LB that routed to a backend before its
// first passing check would send it requests.
type warmingBackend struct {
	srv    *httptest.Server
	ready  atomic.Bool
	served atomic.Uint64
}

// startWarmingBackend starts a warmingBackend on 127.0.0.1, closed at
// cleanup.
func startWarmingBackend(t *testing.T, name string) *warmingBackend {
	w := &warmingBackend{}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/livez":
			rw.WriteHeader(http.StatusOK)
		case "/readyz":
			if !w.ready.Load() {
				rw.WriteHeader(http.StatusServiceUnavailable)
				io.WriteString(rw, `{"status":"warming_up"}`)
				return
			}
			io.WriteString(rw, `{"status":"ok"}`)
		default:
			w.served.Add(1)
			rw.Header().Set("X-Backend", name)
			io.WriteString(rw, `{"backend":"`+name+`"}`)
		}
	}))
	t.Cleanup(w.srv.Close)
	return w
}

// SetReady makes /readyz pass from now on.
func (w *warmingBackend) SetReady() { w.ready.Store(true) }

// Addr is the backend's "127.0.0.1:port".
func (w *warmingBackend) Addr() string { return w.srv.Listener.Addr().String() }

// Served is how many requests other than /readyz and /livez it answered.
func (w *warmingBackend) Served() uint64 { return w.served.Load() }
