package proxy

import (
	"bufio"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
)

func mustRetry(t testing.TB, o RetryOptions) RetryPolicy {
	t.Helper()
	p, err := NewRetryPolicy(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// resetBackend reads each request, counts it (and records its
// X-Request-Id in seen under name, when seen is set) and resets the
// connection without answering.
func resetBackend(t testing.TB, n *atomic.Int64, name string, seen *tryLog) string {
	return rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if req, ok := readRequest(br); ok {
			n.Add(1)
			if seen != nil {
				seen.add(string(req.Header.Peek("X-Request-Id")), name)
			}
			_ = c.(*net.TCPConn).SetLinger(0) // RST instead of FIN
		}
	})
}

// tryLog records which backends saw each request id.
type tryLog struct {
	mu sync.Mutex
	m  map[string][]string
}

func (l *tryLog) add(id, backend string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string][]string{}
	}
	l.m[id] = append(l.m[id], backend)
}

func (l *tryLog) get(id string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.m[id])
}

func retriesOf(p *pool.Pool) (made, refused uint64) {
	st := p.Status()
	return st.Retries, st.RetriesRefused
}

func TestNewRetryPolicy(t *testing.T) {
	var zero RetryPolicy
	if zero.Attempts() != 1 || zero.PerTryTimeout() != 0 || zero.BudgetPercent() != 20 ||
		!slices.Equal(zero.On(), DefaultRetryOn()) {
		t.Errorf("zero value: %d %s %d %v, want the defaults", zero.Attempts(), zero.PerTryTimeout(), zero.BudgetPercent(), zero.On())
	}
	p := mustRetry(t, RetryOptions{Attempts: 3, PerTryTimeout: time.Second, On: []string{"5xx", "timeout"}, BudgetPercent: 0})
	if p.Attempts() != 3 || p.PerTryTimeout() != time.Second || p.BudgetPercent() != 0 ||
		!slices.Equal(p.On(), []string{"timeout", "5xx"}) {
		t.Errorf("got %d %s %d %v", p.Attempts(), p.PerTryTimeout(), p.BudgetPercent(), p.On())
	}
	if off := mustRetry(t, RetryOptions{}); off.Attempts() != 0 || len(off.On()) != 0 {
		t.Errorf("RetryOptions{}: attempts %d on %v, want retries off", off.Attempts(), off.On())
	}
	for _, bad := range []RetryOptions{
		{Attempts: -1},
		{PerTryTimeout: -time.Second},
		{BudgetPercent: 101},
		{BudgetPercent: -1},
		{On: []string{"500"}},
		{On: []string{"reset", "reset"}},
	} {
		if _, err := NewRetryPolicy(bad); err == nil {
			t.Errorf("NewRetryPolicy(%+v): no error", bad)
		}
	}
}

// TestRetryDecision: condition × method × Idempotency-Key × attempt.
func TestRetryDecision(t *testing.T) {
	p := mustRetry(t, RetryOptions{Attempts: 2, On: []string{"connect_failure", "reset", "timeout", "503"}, BudgetPercent: 20})
	def := DefaultRetryPolicy()
	all5xx := mustRetry(t, RetryOptions{Attempts: 1, On: []string{"5xx"}})
	only502 := mustRetry(t, RetryOptions{Attempts: 1, On: []string{"502"}})
	off := mustRetry(t, RetryOptions{Attempts: 0, On: []string{"connect_failure", "reset"}})

	type kind struct {
		name   string
		f      failure
		status int // an answer when non-zero
	}
	connect := kind{"connect", failConnect, 0}
	connTimeout := kind{"connect_timeout", failConnectTimeout, 0}
	closed := kind{"closed", failClosed, 0}
	transport := kind{"transport", failTransport, 0}
	timeout := kind{"timeout", failTimeout, 0}
	saturated := kind{"saturated", failSaturated, 0}
	unwired := kind{"unwired", failUnwired, 0}
	outOfFiles := kind{"out_of_files", failOutOfFiles, 0}
	s500 := kind{"500", 0, 500}
	s502 := kind{"502", 0, 502}
	s503 := kind{"503", 0, 503}
	s404 := kind{"404", 0, 404}

	for _, tt := range []struct {
		policy  *RetryPolicy
		k       kind
		method  string
		key     string // Idempotency-Key header line, "" for none
		attempt int
		want    bool
	}{
		// Never reached: any method, while attempts last.
		{&p, connect, "POST", "", 1, true},
		{&p, connect, "PATCH", "", 2, true},
		{&p, connect, "POST", "", 3, false},
		{&p, connTimeout, "POST", "", 1, true},
		{&def, connect, "POST", "", 1, true},
		{&def, connect, "GET", "", 2, false},
		{&off, connect, "GET", "", 1, false},
		{&all5xx, connect, "GET", "", 1, false}, // connect_failure not in On
		// Maybe processed: idempotent methods or a key.
		{&p, closed, "GET", "", 1, true},
		{&p, closed, "HEAD", "", 1, true},
		{&p, closed, "OPTIONS", "", 1, true},
		{&p, closed, "PUT", "", 1, true},
		{&p, closed, "DELETE", "", 1, true},
		{&p, closed, "TRACE", "", 1, true},
		{&p, closed, "POST", "", 1, false},
		{&p, closed, "PATCH", "", 1, false},
		{&p, closed, "POST", "Idempotency-Key: 8e03978e\r\n", 1, true},
		{&p, closed, "POST", "idempotency-key: 8e03978e\r\n", 1, true}, // names fold case
		{&p, closed, "POST", "Idempotency-Key: \r\n", 1, false},        // empty is no key
		{&p, closed, "POST", "Idempotency-Key: k\r\n", 3, false},
		{&p, closed, "get", "", 1, false}, // methods are case-sensitive
		{&p, transport, "GET", "", 2, true},
		{&def, closed, "GET", "", 1, true},
		{&def, transport, "POST", "", 1, false},
		{&p, timeout, "GET", "", 1, true},
		{&p, timeout, "POST", "", 1, false},
		{&p, timeout, "POST", "Idempotency-Key: k\r\n", 2, true},
		{&def, timeout, "GET", "", 1, false}, // timeout not in the default On
		// Never retried.
		{&p, saturated, "GET", "", 1, false},
		{&p, unwired, "GET", "", 1, false},
		{&p, outOfFiles, "GET", "", 1, false},
		// Answers.
		{&p, s503, "GET", "", 1, true},
		{&p, s503, "POST", "", 1, false},
		{&p, s503, "POST", "Idempotency-Key: k\r\n", 1, true},
		{&p, s502, "GET", "", 1, false},
		{&p, s500, "GET", "", 1, false},
		{&def, s503, "GET", "", 1, false},
		{&all5xx, s500, "GET", "", 1, true},
		{&all5xx, s503, "DELETE", "", 1, true},
		{&all5xx, s503, "GET", "", 2, false},
		{&all5xx, s404, "GET", "", 1, false},
		{&only502, s502, "GET", "", 1, true},
		{&only502, s503, "GET", "", 1, false},
	} {
		var req fasthttp.Request
		req.Header.DisableNormalizing()
		raw := tt.method + " / HTTP/1.1\r\nHost: x\r\n" + tt.key + "\r\n"
		if err := req.Header.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		var cond retryOn
		var reached bool
		if tt.k.status != 0 {
			cond, reached = statusCondition(tt.k.status)&tt.policy.on, true
		} else {
			cond, reached = tt.k.f.condition()
		}
		got := tt.policy.allows(cond, reached, tt.attempt, !reached || replayable(&req.Header))
		if got != tt.want {
			t.Errorf("on %v, %s, %s %q, attempt %d: retry = %v, want %v",
				tt.policy.On(), tt.k.name, tt.method, strings.TrimSpace(tt.key), tt.attempt, got, tt.want)
		}
	}
}

func TestFailureOutcome(t *testing.T) {
	for f, want := range map[failure]pool.RequestOutcome{
		failTimeout:        pool.RequestTimeout,
		failConnect:        pool.RequestTransportError,
		failConnectTimeout: pool.RequestTransportError,
		failClosed:         pool.RequestTransportError,
		failTransport:      pool.RequestTransportError,
		failSaturated:      pool.RequestLocal,
		failUnwired:        pool.RequestLocal,
		failOutOfFiles:     pool.RequestLocal,
	} {
		if got := f.outcome(); got != want {
			t.Errorf("%v.outcome() = %v, want %v", f, got, want)
		}
	}
}

func TestRetryBudgetWindow(t *testing.T) {
	b := newRetryBudget()
	t0 := b.start
	spend := func(at time.Time) int { // retries allowed now, counting them
		n := 0
		for b.allow(at, 20) {
			b.noteRetry(at)
			n++
		}
		return n
	}
	for i := 0; i < 100; i++ {
		b.noteRequest(t0)
	}
	if n := spend(t0); n != 20+RetryBudgetMinPerSecond*budgetWindow {
		t.Errorf("100 requests: %d retries allowed, want 20%% + %d/s × %ds = 50", n, RetryBudgetMinPerSecond, budgetWindow)
	}
	// 5s later, 50 more requests: 10 more retries.
	t5 := t0.Add(5 * time.Second)
	for i := 0; i < 50; i++ {
		b.noteRequest(t5)
	}
	if n := spend(t5); n != 10 {
		t.Errorf("150 requests, 50 retries: %d more allowed, want 10", n)
	}
	// 10.5s after the start the first second's requests and retries have
	// left the window: 50 requests and 10 retries remain, 30+10-10 = 30.
	t10 := t0.Add(10*time.Second + 500*time.Millisecond)
	if n := spend(t10); n != 30 {
		t.Errorf("after the first second slid out: %d allowed, want 30", n)
	}
	// Long after, everything has expired and the buckets restart.
	t100 := t0.Add(100 * time.Second)
	if n := spend(t100); n != 30 {
		t.Errorf("empty window: %d allowed, want the fixed 30", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		b.noteRequest(t100)
		_ = b.allow(t100, 20)
		b.noteRetry(t100)
	}); n != 0 {
		t.Errorf("budget: %.1f allocs/op, want 0", n)
	}
}

func TestRetryDecisionAllocs(t *testing.T) {
	var req fasthttp.Request
	req.Header.DisableNormalizing()
	req.Header.SetMethod("POST")
	req.Header.Set("X-A", "1")
	req.Header.Set("idempotency-key", "k")
	p := DefaultRetryPolicy()
	if n := testing.AllocsPerRun(100, func() {
		cond, reached := failClosed.condition()
		if !p.allows(cond, reached, 1, replayable(&req.Header)) {
			t.Fatal("not allowed")
		}
	}); n != 0 {
		t.Errorf("retry decision: %.1f allocs/op, want 0", n)
	}
}

// TestPostResetRetriedOnlyWithKey: a backend reads the request and resets
// the connection. A POST may have been acted on: without an
// Idempotency-Key the client gets the 502; with one it is retried once,
// elsewhere, body included.
func TestPostResetRetriedOnlyWithKey(t *testing.T) {
	var good atomic.Int64
	goodAddr := startBackend(t, func(ctx *fasthttp.RequestCtx) {
		if string(ctx.PostBody()) != "pay once" {
			ctx.Error("body "+string(ctx.PostBody()), 400)
			return
		}
		good.Add(1)
		ctx.SetBodyString("good")
	})

	t.Run("without key", func(t *testing.T) {
		var reset atomic.Int64
		up := &Upstream{Pool: newTestPool(t, "web", resetBackend(t, &reset, "reset", nil), goodAddr)}
		l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
		good.Store(0)
		var failed int64
		for i := 0; i < 10; i++ {
			resp := l.post(t, "/", "pay once")
			switch resp.StatusCode() {
			case 200:
			case 502:
				wantJSONError(t, resp, 502, "backend error", "web")
				failed++
			default:
				t.Fatalf("POST %d: %d %q", i, resp.StatusCode(), resp.Body())
			}
		}
		if failed == 0 || failed != reset.Load() || good.Load() != 10-failed {
			t.Errorf("%d failed; reset backend saw %d, good %d: want failed == reset > 0 and the rest good",
				failed, reset.Load(), good.Load())
		}
		if made, refused := retriesOf(up.Pool); made != 0 || refused != 0 {
			t.Errorf("retries %d, refused %d: want none", made, refused)
		}
		checkReleased(t, up.Pool)
	})

	t.Run("with key", func(t *testing.T) {
		var reset atomic.Int64
		seen := &tryLog{}
		up := &Upstream{Pool: newTestPool(t, "web", resetBackend(t, &reset, "reset", seen), goodAddr)}
		// Trusted, so that the test's X-Request-Id reaches the backends.
		l := startTCPLB(t, trustLoopback(NewHandler("public", Routes{Default: up}, nil)), ServerOptions{})
		good.Store(0)
		for i := 0; i < 10; i++ {
			id := itoa(i)
			resp := l.conn(t).raw("POST / HTTP/1.1\r\nHost: lb\r\nIdempotency-Key: order-"+id+
				"\r\nX-Request-Id: "+id+"\r\nContent-Length: 8\r\n\r\npay once", false)
			if resp.StatusCode() != 200 || string(resp.Body()) != "good" {
				t.Fatalf("POST %d: %d %q", i, resp.StatusCode(), resp.Body())
			}
			if got := seen.get(id); len(got) > 1 {
				t.Errorf("POST %d tried the reset backend %d times", i, len(got))
			}
		}
		made, refused := retriesOf(up.Pool)
		if reset.Load() == 0 || uint64(reset.Load()) != made || refused != 0 || good.Load() != 10 {
			t.Errorf("reset backend saw %d, retries %d (refused %d), good %d: want each reset retried once, elsewhere",
				reset.Load(), made, refused, good.Load())
		}
		checkReleased(t, up.Pool)
	})
}

// TestPerTryTimeoutHungBackend: one backend of three accepts and reads
// requests and never answers. With a 300ms per-try timeout and "timeout"
// in On, every GET succeeds well before the 5s response timeout (the
// per-try timeout plus slack for a loaded machine: what is asserted is that
// the per-try timeout, not the response timeout, ended the hung try), and
// the hung backend is charged with each timeout.
func TestPerTryTimeoutHungBackend(t *testing.T) {
	const perTry = 300 * time.Millisecond
	var hung, ok1, ok2 atomic.Int64
	hungAddr := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			if _, ok := readRequest(br); !ok {
				return
			}
			hung.Add(1)
			_, _ = io.Copy(io.Discard, br) // until the LB gives up and closes
		}
	})
	up := &Upstream{
		Pool:            newTestPool(t, "web", okBackend(t, "a", &ok1), hungAddr, okBackend(t, "b", &ok2)),
		ResponseTimeout: 5 * time.Second,
		Retry: mustRetry(t, RetryOptions{Attempts: 1, PerTryTimeout: perTry,
			On: []string{"connect_failure", "reset", "timeout"}, BudgetPercent: 20}),
	}
	l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})

	var slowest time.Duration
	for i := 0; i < 9; i++ {
		start := time.Now()
		resp := l.get(t, "x", "/")
		d := time.Since(start)
		slowest = max(slowest, d)
		if resp.StatusCode() != 200 {
			t.Fatalf("GET %d: %d %q after %v", i, resp.StatusCode(), resp.Body(), d)
		}
		if d >= perTry+1500*time.Millisecond {
			t.Errorf("GET %d took %v, want < %v", i, d, perTry+1500*time.Millisecond)
		}
	}
	if hung.Load() == 0 {
		t.Fatal("the hung backend was never tried: the test proves nothing")
	}
	if n := backendErrors(t, up.Pool, hungAddr); n != uint64(hung.Load()) {
		t.Errorf("hung backend: %d errors for %d timed-out tries", n, hung.Load())
	}
	if made, _ := retriesOf(up.Pool); made != uint64(hung.Load()) {
		t.Errorf("%d retries, want one per timed-out try (%d)", made, hung.Load())
	}
	t.Logf("slowest GET %v; hung backend tried %d times", slowest, hung.Load())
	checkReleased(t, up.Pool)
}

// TestRetryTwoFailingBackends: with attempts = 2, two failing backends
// and a good one, every GET succeeds and no request tries a backend twice.
func TestRetryTwoFailingBackends(t *testing.T) {
	var bad1, bad2 atomic.Int64
	seen := &tryLog{}
	goodAddr := startBackend(t, func(ctx *fasthttp.RequestCtx) {
		seen.add(string(ctx.Request.Header.Peek("X-Request-Id")), "good")
		ctx.SetBodyString("good")
	})
	up := &Upstream{
		Pool: newTestPool(t, "web", resetBackend(t, &bad1, "bad1", seen), resetBackend(t, &bad2, "bad2", seen), goodAddr),
		Retry: mustRetry(t, RetryOptions{Attempts: 2, On: []string{"connect_failure", "reset"},
			BudgetPercent: 20}),
	}
	// Trusted, so that the test's X-Request-Id reaches the backends.
	l := startTCPLB(t, trustLoopback(NewHandler("public", Routes{Default: up}, nil)), ServerOptions{})

	twice := 0
	for i := 0; i < 15; i++ {
		id := itoa(i)
		resp := l.conn(t).raw("GET / HTTP/1.1\r\nHost: x\r\nX-Request-Id: "+id+"\r\n\r\n", false)
		if resp.StatusCode() != 200 || string(resp.Body()) != "good" {
			t.Fatalf("GET %d: %d %q", i, resp.StatusCode(), resp.Body())
		}
		tried := seen.get(id)
		sorted := slices.Clone(tried)
		slices.Sort(sorted)
		if len(slices.Compact(sorted)) != len(tried) {
			t.Errorf("GET %d tried %v: a backend twice", i, tried)
		}
		if len(tried) == 3 {
			twice++
		}
	}
	if twice == 0 {
		t.Errorf("no GET needed both retries: the test proves nothing")
	}
	if made, _ := retriesOf(up.Pool); made != uint64(bad1.Load()+bad2.Load()) {
		t.Errorf("%d retries, want one per failed try (%d)", made, bad1.Load()+bad2.Load())
	}
	checkReleased(t, up.Pool)
}

// TestRetryOn503: with "503" in On, a GET answered 503 goes to another
// backend; a POST without a key gets the backend's own 503 answer.
func TestRetryOn503(t *testing.T) {
	var busy, good atomic.Int64
	busyAddr := startBackend(t, func(ctx *fasthttp.RequestCtx) {
		busy.Add(1)
		ctx.Response.Header.Set("Retry-After", "1")
		ctx.SetStatusCode(503)
		ctx.SetBodyString("busy")
	})
	up := &Upstream{
		Pool:  newTestPool(t, "web", busyAddr, okBackend(t, "good", &good)),
		Retry: mustRetry(t, RetryOptions{Attempts: 1, On: []string{"connect_failure", "reset", "503"}, BudgetPercent: 20}),
	}
	l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})

	for i := 0; i < 10; i++ {
		if resp := l.get(t, "x", "/"); resp.StatusCode() != 200 || string(resp.Body()) != "good" {
			t.Fatalf("GET %d: %d %q", i, resp.StatusCode(), resp.Body())
		}
	}
	if made, _ := retriesOf(up.Pool); busy.Load() == 0 || made != uint64(busy.Load()) {
		t.Errorf("busy backend answered %d times, %d retries: want each 503 retried", busy.Load(), made)
	}
	busy.Store(0)
	var got503 int64
	for i := 0; i < 10; i++ {
		resp := l.post(t, "/", "x")
		switch {
		case resp.StatusCode() == 503 && string(resp.Body()) == "busy" && string(resp.Header.Peek("Retry-After")) == "1":
			got503++
		case resp.StatusCode() == 200:
		default:
			t.Fatalf("POST %d: %d %q", i, resp.StatusCode(), resp.Body())
		}
	}
	if got503 == 0 || got503 != busy.Load() {
		t.Errorf("%d POSTs got the backend's 503, busy backend answered %d: want equal, > 0", got503, busy.Load())
	}
	checkReleased(t, up.Pool)
}

// TestRetriedAnswerKept: a 503 answer is retried; when the retry gets no
// answer (a reset), the client gets the backend's 503, not an LB error.
func TestRetriedAnswerKept(t *testing.T) {
	var busy, reset atomic.Int64
	busyAddr := startBackend(t, func(ctx *fasthttp.RequestCtx) {
		busy.Add(1)
		ctx.SetStatusCode(503)
		ctx.SetBodyString("busy")
	})
	up := &Upstream{
		Pool:  newTestPool(t, "web", busyAddr, resetBackend(t, &reset, "reset", nil)),
		Retry: mustRetry(t, RetryOptions{Attempts: 1, On: []string{"reset", "503"}, BudgetPercent: 20}),
	}
	l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
	c := l.conn(t)
	for i := 0; i < 6; i++ {
		if resp := c.raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n", false); resp.StatusCode() != 503 || string(resp.Body()) != "busy" {
			t.Fatalf("GET %d: %d %q, want the backend's 503", i, resp.StatusCode(), resp.Body())
		}
	}
	if busy.Load() != 6 || reset.Load() != 6 {
		t.Errorf("busy answered %d, reset saw %d: want every GET to try both", busy.Load(), reset.Load())
	}
	checkReleased(t, up.Pool)
}

// TestRetryBudgetSpent: with every backend failing, retries stop at the
// budget; each wanted retry is either made or refused, never both.
func TestRetryBudgetSpent(t *testing.T) {
	up := &Upstream{
		Pool:  newTestPool(t, "web", refusedAddr(t), refusedAddr(t), refusedAddr(t)),
		Retry: mustRetry(t, RetryOptions{Attempts: 1, On: []string{"connect_failure"}, BudgetPercent: 20}),
	}
	l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})

	const n = 300
	for i := 0; i < n; i++ {
		resp := l.post(t, "/", "x") // a POST: connect failures are retried whatever the method
		wantJSONError(t, resp, 502, "backend connection failed", "web")
	}
	made, refused := retriesOf(up.Pool)
	limit := uint64(n*20/100 + RetryBudgetMinPerSecond*budgetWindow)
	t.Logf("%d requests: %d retries made, %d refused (budget %d)", n, made, refused, limit)
	if made+refused != n {
		t.Errorf("made %d + refused %d != %d failed requests that each wanted one retry", made, refused, n)
	}
	if made > limit || made < limit-5 {
		t.Errorf("%d retries made, want about the budget %d and never more", made, limit)
	}
	checkReleased(t, up.Pool)
}

// TestRetryAttemptsZero: attempts = 0 turns retries off, connect failures
// included.
func TestRetryAttemptsZero(t *testing.T) {
	var good atomic.Int64
	up := &Upstream{
		Pool:  newTestPool(t, "web", refusedAddr(t), okBackend(t, "good", &good)),
		Retry: mustRetry(t, RetryOptions{Attempts: 0, On: []string{"connect_failure", "reset"}, BudgetPercent: 20}),
	}
	l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
	var failed int64
	for i := 0; i < 10; i++ {
		resp := l.get(t, "x", "/")
		switch resp.StatusCode() {
		case 200:
		case 502:
			wantJSONError(t, resp, 502, "backend connection failed", "web")
			failed++
		default:
			t.Fatalf("GET %d: %d %q", i, resp.StatusCode(), resp.Body())
		}
	}
	if failed == 0 || good.Load() != 10-failed {
		t.Errorf("%d failed, good served %d: want the refused backend's share to fail", failed, good.Load())
	}
	if made, refused := retriesOf(up.Pool); made != 0 || refused != 0 {
		t.Errorf("retries %d, refused %d: want none", made, refused)
	}
	checkReleased(t, up.Pool)
}

// TestRetryExchange: forward reports how many retries a request took.
func TestRetryExchange(t *testing.T) {
	var good atomic.Int64
	refused := refusedAddr(t)
	up := &Upstream{Pool: newTestPool(t, "web", refused, okBackend(t, "good", &good))}
	h := NewHandler("public", Routes{Default: up}, nil)
	total := 0
	for i := 0; i < 4; i++ {
		var ctx fasthttp.RequestCtx
		ctx.Request.SetRequestURI("/")
		ctx.Request.Header.SetHost("x")
		ex := h.forward(&ctx, h.routes.Load().def)
		if ctx.Response.StatusCode() != 200 || ex.backend == nil || ex.backend.Address() == refused || ex.retries > 1 {
			t.Fatalf("request %d: %d from %v after %d retries", i, ctx.Response.StatusCode(), ex.backend, ex.retries)
		}
		total += ex.retries
	}
	if made, _ := retriesOf(up.Pool); total == 0 || uint64(total) != made || uint64(total) != backendErrors(t, up.Pool, refused) {
		t.Errorf("exchanges report %d retries, pool %d, refused backend failed %d times: want equal, > 0",
			total, made, backendErrors(t, up.Pool, refused))
	}
	checkReleased(t, up.Pool)
}

// TestRetryBudgetShared: listeners routing to the same Upstream share one
// budget, and a new routing table for the same pool keeps it.
func TestRetryBudgetShared(t *testing.T) {
	p := newTestPool(t, "web")
	up := &Upstream{Pool: p}
	h1 := NewHandler("a", Routes{Default: up}, nil)
	h2 := NewHandler("b", Routes{Routes: []Route{{PathPrefix: "/", Upstream: up}}}, nil)
	b := h1.routes.Load().def.budget
	if b == nil || h2.routes.Load().routes[0].up.budget != b {
		t.Fatal("two handlers of one Upstream have different budgets")
	}
	h1.SetRoutes(Routes{Default: &Upstream{Pool: p}})
	if h1.routes.Load().def.budget != b {
		t.Error("new routes for the same pool: budget reset")
	}
	h1.SetRoutes(Routes{Default: &Upstream{Pool: newTestPool(t, "other")}})
	if h1.routes.Load().def.budget == b {
		t.Error("another pool got the old pool's budget")
	}
}
