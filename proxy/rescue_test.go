package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbtrust/lb/balancer"
	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
)

// hangingBackend accepts requests and never answers them: each request
// it reads is sent on got (method, and Idempotency-Key when present), and
// its connection is held until the LB closes it or the test ends.
func hangingBackend(t testing.TB, got chan<- string) string {
	return rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			req, ok := readRequest(br)
			if !ok {
				return
			}
			kind := string(req.Header.Method())
			if k := req.Header.Peek("Idempotency-Key"); len(k) > 0 {
				kind += " key"
			}
			got <- kind
			_, _ = io.Copy(io.Discard, br) // until the LB gives up and closes
		}
	})
}

// newRescuePool is newTestPool with silent detection on (after) and the
// server's rescue wired as the OnTransition hook: a backend held out for
// not answering has its waiting tries woken.
// swept adds up the rescues the sweeps report (RescueWaiting's done).
func newRescuePool(t testing.TB, after time.Duration, swept *atomic.Int64, addrs ...string) *pool.Pool {
	t.Helper()
	return newRescuePoolWith(t, pool.Resilience{
		Silent:  pool.Silent{Enabled: true, After: after},
		Passive: pool.Passive{MaxEjectedPercent: 50},
	}, swept, addrs...)
}

// newRescuePoolWith is newRescuePool with the resilience settings res.
func newRescuePoolWith(t testing.TB, res pool.Resilience, swept *atomic.Int64, addrs ...string) *pool.Pool {
	t.Helper()
	pol, err := balancer.New(balancer.RoundRobin)
	if err != nil {
		t.Fatal(err)
	}
	p := pool.New(pool.Options{
		Name: "web", Policy: pol,
		Resilience: res,
		OnTransition: func(tr pool.Transition) {
			if c, ok := tr.Target.Attached().(*BackendClient); ok && tr.Target.Rescuable() {
				c.RescueWaiting(func(_, rescued int) { swept.Add(int64(rescued)) })
			}
		},
	})
	t.Cleanup(p.Close)
	for _, a := range addrs {
		b, _, err := p.Add(a, 1)
		if err != nil {
			t.Fatal(err)
		}
		c := NewBackendClient(a, ClientOptions{ConnectTimeout: time.Second, IdleConnTimeout: testIdle})
		b.Attach(c)
		b.ObserveCheck(pool.CheckResult{Outcome: pool.ReasonCheckPassed})
		t.Cleanup(func() { c.CloseAll() })
	}
	return p
}

// exchange sends one raw request to l on a new connection and returns
// the answer's status and body, or an error (never t.Fatal: it runs on
// other goroutines).
func (l *lb) exchange(req string) (int, string, error) {
	c, err := l.dial()
	if err != nil {
		return 0, "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write([]byte(req)); err != nil {
		return 0, "", err
	}
	var resp fasthttp.Response
	if err := resp.Read(bufio.NewReader(c)); err != nil {
		return 0, "", err
	}
	return resp.StatusCode(), string(resp.Body()), nil
}

// answer is one client request's result in a rescue test.
type answer struct {
	kind   string
	status int
	body   string
	took   time.Duration
	err    error
}

// exchanges sends raw requests to an lb, each on a new connection and
// its own goroutine, and collects their answers.
type exchanges struct {
	l       *lb
	wg      sync.WaitGroup
	answers chan answer
}

// newExchanges returns exchanges sending to l (up to 10,000 requests).
func newExchanges(l *lb) *exchanges {
	return &exchanges{l: l, answers: make(chan answer, 10000)}
}

// send sends req, named kind in its answer, and returns a channel
// closed once it is answered (or failed).
func (e *exchanges) send(kind, req string) <-chan struct{} {
	done := make(chan struct{})
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer close(done)
		start := time.Now()
		status, body, err := e.l.exchange(req)
		e.answers <- answer{kind, status, body, time.Since(start), err}
	}()
	return done
}

// wait waits until every request sent so far is answered.
func (e *exchanges) wait() { e.wg.Wait() }

// results waits for every request and returns their answers; call it
// once, after the last send.
func (e *exchanges) results() []answer {
	e.wg.Wait()
	close(e.answers)
	var all []answer
	for a := range e.answers {
		all = append(all, a)
	}
	return all
}

// TestRescueFromSilentBackend: requests already waiting on a backend that
// stops answering are sent to another backend once it is judged silent,
// if they may be replayed: GETs and POSTs with an Idempotency-Key come
// back 200 from a good backend, counted as rescued on the silent one and
// as retries; a POST without a key keeps waiting and gets the header
// timeout's 504, as before.
func TestRescueFromSilentBackend(t *testing.T) {
	const after = time.Second
	const headerTimeout = 3 * time.Second
	var okA, okB, swept atomic.Int64
	got := make(chan string, 100)
	hung := hangingBackend(t, got)
	up := &Upstream{
		Pool:          newRescuePool(t, after, &swept, okBackend(t, "a", &okA), hung, okBackend(t, "b", &okB)),
		HeaderTimeout: headerTimeout,
	}
	l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})

	ex := newExchanges(l)
	send := ex.send
	// One request of each kind onto the hung backend: send them one at a
	// time until the hung backend has one (round robin gets there within
	// three), well before it can be judged silent.
	kinds := []struct{ kind, req string }{
		{"GET", "GET /get HTTP/1.1\r\nHost: lb\r\n\r\n"},
		{"POST key", "POST /post HTTP/1.1\r\nHost: lb\r\nIdempotency-Key: k1\r\nContent-Length: 2\r\n\r\nhi"},
		{"POST", "POST /post HTTP/1.1\r\nHost: lb\r\nContent-Length: 2\r\n\r\nhi"},
	}
	seen := map[string]int{}
	for _, k := range kinds {
		for tries := 0; seen[k.kind] == 0; tries++ {
			if tries == 6 {
				t.Fatalf("the hung backend got no %s in 6 tries", k.kind)
			}
			done := send(k.kind, k.req)
			select {
			case kind := <-got:
				seen[kind]++
			case <-done: // answered by a good backend
			}
		}
	}
	// Keep the good backends answering, so that the hung one is judged
	// silent (another backend must have answered meanwhile), until the
	// verdict; requests the hung backend gets meanwhile are rescued too.
	b := backendAt(t, up.Pool, hung)
	deadline := time.Now().Add(10 * time.Second)
	for b.State() != pool.StateUnhealthy && time.Now().Before(deadline) {
		send("GET", "GET /trickle HTTP/1.1\r\nHost: lb\r\n\r\n")
		time.Sleep(10 * time.Millisecond)
	}
	if b.State() != pool.StateUnhealthy {
		t.Fatalf("hung backend still %s: never judged silent", b.State())
	}
	answers := ex.results()
	for len(got) > 0 {
		seen[<-got]++
	}

	var postTimeouts int
	for _, a := range answers {
		switch {
		case a.err != nil:
			t.Errorf("%s: %v after %v", a.kind, a.err, a.took)
		case a.kind == "POST" && a.status != 200:
			// The one the hung backend got: it must have waited.
			postTimeouts++
			if a.status != fasthttp.StatusGatewayTimeout || a.took < headerTimeout-100*time.Millisecond {
				t.Errorf("POST without a key answered %d after %v, want 504 after the header timeout (%v)", a.status, a.took, headerTimeout)
			}
		case a.status != 200 || (a.body != "a" && a.body != "b"):
			t.Errorf("%s: %d %q after %v, want 200 from a good backend", a.kind, a.status, a.body, a.took)
		case a.took >= headerTimeout-100*time.Millisecond:
			t.Errorf("%s took %v: waited for the header timeout instead of being rescued", a.kind, a.took)
		}
	}
	replayed := seen["GET"] + seen["POST key"]
	if postTimeouts != 1 {
		t.Errorf("%d POSTs without a key failed, want 1 (the one that waited on the hung backend)", postTimeouts)
	}
	if seen["POST"] != 1 {
		t.Errorf("hung backend saw %d POSTs without a key, want 1 (never sent again)", seen["POST"])
	}
	if n := b.Rescued(); n != uint64(replayed) {
		t.Errorf("rescued %d, want %d (every replayable request the hung backend got: %v)", n, replayed, seen)
	}
	if st := up.Pool.Status(); st.Retries < uint64(replayed) {
		t.Errorf("pool retries %d, want at least the %d rescues", st.Retries, replayed)
	}
	for _, bs := range up.Pool.Status().Backends {
		if bs.Address == hung && bs.Rescued != uint64(replayed) {
			t.Errorf("/status rescued %d, want %d", bs.Rescued, replayed)
		}
	}
	// A request that reached the backend after the sweep moves itself
	// and is in no sweep's report.
	if n := swept.Load(); n == 0 || n > int64(b.Rescued()) {
		t.Errorf("the sweeps report %d rescued, want 1..%d", n, b.Rescued())
	}
	t.Logf("hung backend got %v; rescued %d (%d reported by the sweeps)", seen, b.Rescued(), swept.Load())
	checkReleased(t, up.Pool)
}

// TestRescueNeedsARetryAttempt: with retries off (attempts 0) a request
// waiting on a backend judged silent is not moved: rescues are retries.
func TestRescueNeedsARetryAttempt(t *testing.T) {
	const headerTimeout = 1500 * time.Millisecond
	var okA, swept atomic.Int64
	got := make(chan string, 100)
	hung := hangingBackend(t, got)
	up := &Upstream{
		Pool:          newRescuePool(t, 100*time.Millisecond, &swept, hung, okBackend(t, "a", &okA)),
		HeaderTimeout: headerTimeout,
		Retry:         mustRetry(t, RetryOptions{}),
	}
	l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
	b := backendAt(t, up.Pool, hung)

	// GETs until one waits on the hung backend (round robin gets there
	// within two).
	type result struct {
		status int
		err    error
	}
	res := make(chan result, 2)
	for stuck := false; !stuck; {
		go func() {
			status, _, err := l.exchange("GET /stuck HTTP/1.1\r\nHost: lb\r\n\r\n")
			res <- result{status, err}
		}()
		select {
		case <-got:
			stuck = true
		case r := <-res:
			if r.err != nil || r.status != 200 {
				t.Fatalf("GET to the good backend: %d %v", r.status, r.err)
			}
		}
	}
	// Keep the good backend answering until the verdict.
	// (Those the hung backend gets wait too; they are not looked at.)
	var wg sync.WaitGroup
	deadline := time.Now().Add(10 * time.Second)
	for b.State() != pool.StateUnhealthy && time.Now().Before(deadline) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, _ = l.exchange("GET /ok HTTP/1.1\r\nHost: lb\r\n\r\n")
		}()
		time.Sleep(5 * time.Millisecond)
	}
	if b.State() != pool.StateUnhealthy {
		t.Fatalf("hung backend still %s: never judged silent", b.State())
	}
	wg.Wait()
	r := <-res
	if r.err != nil || r.status != fasthttp.StatusGatewayTimeout {
		t.Errorf("stuck GET with retries off: %d %v, want 504 after the header timeout", r.status, r.err)
	}
	if n := b.Rescued(); n != 0 {
		t.Errorf("rescued %d with retries off, want 0", n)
	}
	checkReleased(t, up.Pool)
}

// TestStrayWakeKeepsWaiting: a read deadline set in the past on a
// connection whose try is not being rescued (a sweep aimed at the
// connection's previous try that lands late) does not fail the try: it
// reads again until its own deadline.
func TestStrayWakeKeepsWaiting(t *testing.T) {
	release := make(chan struct{})
	addr := startBackend(t, func(ctx *fasthttp.RequestCtx) {
		<-release
		ctx.SetBodyString("late")
	})
	up := &Upstream{Pool: newTestPool(t, "web", addr), HeaderTimeout: 5 * time.Second}
	l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
	c := up.Pool.Backends()[0].Attached().(*BackendClient)

	for _, req := range []string{
		"GET / HTTP/1.1\r\nHost: lb\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: lb\r\nContent-Length: 2\r\n\r\nhi",
	} {
		done := make(chan answer, 1)
		go func() {
			status, body, err := l.exchange(req)
			done <- answer{status: status, body: body, err: err}
		}()
		// Once the request waits on its connection, wake it without a
		// rescue, a few times.
		deadline := time.Now().Add(5 * time.Second)
		for up.Pool.Backends()[0].InFlight() == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		for i := 0; i < 3; i++ {
			time.Sleep(20 * time.Millisecond)
			c.mu.Lock()
			for tc := range c.conns {
				_ = tc.Conn.SetReadDeadline(wakeNow)
			}
			c.mu.Unlock()
		}
		release <- struct{}{}
		a := <-done
		if a.err != nil || a.status != 200 || a.body != "late" {
			t.Errorf("%s after stray wakes: %d %q %v, want 200 late", strings.Fields(req)[0], a.status, a.body, a.err)
		}
	}
	checkReleased(t, up.Pool)
}

// TestRescuedErrorIsNeverShown: errRescued classifies as failRescued,
// which is not held against the backend.
func TestRescuedErrorIsNeverShown(t *testing.T) {
	if f := classify(errRescued); f != failRescued || f.outcome() != pool.RequestLocal {
		t.Errorf("classify(errRescued) = %v (outcome %v), want rescued, local", f, f.outcome())
	}
	if !timedOut(fasthttp.ErrTimeout) || !timedOut(&net.OpError{Op: "read", Err: errTimeoutForTest{}}) || timedOut(errors.New("x")) {
		t.Error("timedOut misjudges a timeout")
	}
}

type errTimeoutForTest struct{}

func (errTimeoutForTest) Error() string   { return "i/o timeout" }
func (errTimeoutForTest) Timeout() bool   { return true }
func (errTimeoutForTest) Temporary() bool { return true }

// backendAt returns p's backend at address.
func backendAt(t testing.TB, p *pool.Pool, address string) *pool.Backend {
	t.Helper()
	for _, b := range p.Backends() {
		if b.Address() == address {
			return b
		}
	}
	t.Fatalf("no backend %s", address)
	return nil
}
