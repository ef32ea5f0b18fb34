package proxy

import (
	"strings"
	"sync/atomic"
	"time"

	"github.com/lbtrust/lb/pool"
)

// Defaults of an Upstream's timeouts. They equal config's defaults of the
// same names; server's TestRuntimeDefaultsMatchConfig holds them to it.
const (
	// DefaultHeaderTimeout bounds the wait for a backend answer's header
	// when Upstream.HeaderTimeout is zero or negative.
	DefaultHeaderTimeout = 30 * time.Second
	// DefaultBodyIdleTimeout bounds the silence between two pieces of a
	// streamed body when Upstream.BodyIdleTimeout is zero or negative
	// (NGINX's proxy_read_timeout default).
	DefaultBodyIdleTimeout = 60 * time.Second
)

// Upstream is a pool plus the per-pool forwarding settings. It is read when
// it is handed to NewHandler or SetRoutes; changing it afterwards has no
// effect until it is handed over again.
type Upstream struct {
	// Pool picks the backend of each request. Required: NewHandler and
	// SetRoutes panic on a nil Pool (a wiring bug, not an input error).
	// Every backend in it must carry a *BackendClient (see
	// NewBackendClient) as its Attached value.
	Pool *pool.Pool
	// HeaderTimeout bounds the wait for the answer's header, from
	// routing to the header, every try included (a try gets the shorter
	// of Retry's PerTryTimeout and the time left); past it the client
	// gets 504. Zero or negative means DefaultHeaderTimeout.
	HeaderTimeout time.Duration
	// BodyIdleTimeout bounds how long a streamed body may go without a
	// byte from the backend (a Server-Sent Events stream with a heartbeat
	// more frequent than this lives on); past it the stream is cut and
	// counted as a backend timeout. Zero or negative means
	// DefaultBodyIdleTimeout.
	BodyIdleTimeout time.Duration
	// ResponseTimeout, when positive, bounds the whole answer, from
	// routing to the last byte of the body: the header (it caps
	// HeaderTimeout) and a streamed body, which is cut when it runs out.
	// Zero or negative means no such bound (the default): a stream may
	// last as long as its backend keeps sending.
	ResponseTimeout time.Duration
	// Retry says which failed tries are sent again to another backend of
	// Pool (see RetryPolicy). The zero value is DefaultRetryPolicy(): one
	// retry of a connect failure or reset. Build others with
	// NewRetryPolicy; RetryOptions{} (Attempts 0) turns retries off.
	Retry RetryPolicy
	// Duration, when not nil, observes how long each client request
	// routed here took, in seconds, from routing to the answer being
	// ready (every try included). It is called on the request path and
	// must be safe for concurrent use, lock-free and allocation-free: a
	// resolved prometheus.Histogram child is.
	Duration Observer
	// Key is what each request's key is made of, for a key-aware pool
	// policy (consistent_hash; see KeySource). The zero value gives no
	// key.
	Key KeySource
	// Sticky, when not nil, turns on sticky sessions (see StickyOptions).
	Sticky *StickyOptions

	// budget is the upstream's retry budget, made by the first handler
	// that compiles this Upstream and shared by every other one, so one
	// pool routed from several listeners has one budget.
	budget atomic.Pointer[retryBudget]
}

// sharedBudget returns u's retry budget, adopting prev (the budget an
// earlier routing table kept for the same pool) or making one when u has
// none yet.
func (u *Upstream) sharedBudget(prev *retryBudget) *retryBudget {
	if b := u.budget.Load(); b != nil {
		return b
	}
	if prev == nil {
		prev = newRetryBudget()
	}
	u.budget.CompareAndSwap(nil, prev)
	return u.budget.Load()
}

// Observer records one value; prometheus.Observer (a Histogram) is one.
type Observer interface {
	Observe(float64)
}

// Route sends the requests it matches to its Upstream.
type Route struct {
	// Host matches the request's Host header, compared case-insensitively
	// and without the port on either side ("api.example.com" matches
	// "API.example.com:8080"). "" matches any host.
	Host string
	// PathPrefix matches the start of the request's normalized path
	// (byte-wise, case-sensitive: "/api/" matches "/api/v1" but not
	// "/api"). "" matches any path.
	PathPrefix string
	// Upstream receives the matched requests. Required (see Upstream.Pool).
	Upstream *Upstream
}

// Routes is a listener's routing table: the first Route that matches wins,
// else Default. A nil Default answers requests that match no route with
// 404 and a JSON body.
type Routes struct {
	Default *Upstream
	Routes  []Route
}

// table is the compiled, immutable form of Routes that the request path
// reads through an atomic pointer.
type table struct {
	def    *upstream
	routes []route
}

// route is a compiled Route: host lower-cased without port or trailing dot.
type route struct {
	host   string
	prefix string
	up     *upstream
}

// compile turns r into a table. Upstreams shared by several routes are
// compiled once. prev is the table r replaces (nil for none): an upstream
// whose pool prev also routed to keeps that retry budget, so a reload does
// not reset it. It panics on a nil Upstream or Pool.
func compile(r Routes, prev *table) *table {
	seen := make(map[*Upstream]*upstream)
	up := func(u *Upstream) *upstream {
		if u == nil || u.Pool == nil {
			panic("proxy: route without an Upstream or Pool")
		}
		if c, ok := seen[u]; ok {
			return c
		}
		c := newUpstream(u, u.sharedBudget(prev.budgetOf(u.Pool)))
		seen[u] = c
		return c
	}
	t := &table{routes: make([]route, 0, len(r.Routes))}
	if r.Default != nil {
		t.def = up(r.Default)
	}
	for _, rt := range r.Routes {
		t.routes = append(t.routes, route{
			host:   strings.ToLower(string(hostOnly([]byte(rt.Host)))),
			prefix: rt.PathPrefix,
			up:     up(rt.Upstream),
		})
	}
	return t
}

// budgetOf returns the retry budget t keeps for pool p, or nil (also for
// a nil t).
func (t *table) budgetOf(p *pool.Pool) *retryBudget {
	if t == nil {
		return nil
	}
	if t.def != nil && t.def.pool == p {
		return t.def.budget
	}
	for i := range t.routes {
		if t.routes[i].up.pool == p {
			return t.routes[i].up.budget
		}
	}
	return nil
}

// match returns the upstream for a request with the given Host header and
// normalized path, or nil when nothing matches and there is no default.
// It does not allocate.
func (t *table) match(host, path []byte) *upstream {
	host = hostOnly(host)
	for i := range t.routes {
		r := &t.routes[i]
		if r.host != "" && !equalFold(host, r.host) {
			continue
		}
		if len(path) < len(r.prefix) || string(path[:len(r.prefix)]) != r.prefix {
			continue
		}
		return r.up
	}
	return t.def
}

// hostOnly strips the port and a trailing dot from a Host header value:
// "Example.com.:8080" -> "Example.com", "[::1]:80" -> "[::1]".
func hostOnly(h []byte) []byte {
	if len(h) > 0 && h[0] == '[' {
		for i := 1; i < len(h); i++ {
			if h[i] == ']' {
				return h[:i+1]
			}
		}
		return h
	}
	for i := len(h) - 1; i >= 0; i-- {
		if h[i] == ':' {
			h = h[:i]
			break
		}
	}
	if n := len(h); n > 1 && h[n-1] == '.' {
		h = h[:n-1]
	}
	return h
}

// equalFold reports whether b equals s under ASCII case folding. It does
// not allocate.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// upstream is a compiled Upstream: its settings with defaults applied and
// its error bodies rendered.
type upstream struct {
	pool *pool.Pool
	// header bounds the wait for the answer's header, all tries; idle a
	// streamed body's silence; total the whole answer (0: no bound).
	header, idle, total time.Duration
	// perTry bounds one try; 0 when it would not be shorter than header.
	perTry time.Duration
	retry  RetryPolicy
	budget *retryBudget
	errs   *errorBodies
	// duration is Upstream.Duration (nil: not observed).
	duration Observer
	// key is Upstream.Key; sticky the compiled Upstream.Sticky (nil:
	// not sticky; affinity.go, sticky.go).
	key    KeySource
	sticky *sticky
}

func newUpstream(u *Upstream, budget *retryBudget) *upstream {
	header := u.HeaderTimeout
	if header <= 0 {
		header = DefaultHeaderTimeout
	}
	total := max(u.ResponseTimeout, 0)
	if total > 0 {
		header = min(header, total)
	}
	idle := u.BodyIdleTimeout
	if idle <= 0 {
		idle = DefaultBodyIdleTimeout
	}
	r := u.Retry.orDefault()
	perTry := r.perTry
	if perTry >= header {
		perTry = 0
	}
	return &upstream{
		pool:   u.Pool,
		header: header,
		idle:   idle,
		total:  total,
		perTry: perTry,
		retry:  r,
		budget: budget,
		errs:   renderErrorBodies(u.Pool.Name()),

		duration: u.Duration,
		key:      u.Key,
		sticky:   newSticky(u.Sticky, u.Pool),
	}
}
