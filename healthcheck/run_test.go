package healthcheck

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// step is one scripted answer of a fake backend.
type step struct {
	code int
	body string
}

// scriptedBackend replays steps in order, one per request, then repeats
// the last; it counts connections opened and closed.
type scriptedBackend struct {
	srv            *httptest.Server
	mu             sync.Mutex
	steps          []step
	next           int
	opened, closed atomic.Int64
	delay          time.Duration
}

func newScriptedBackend(t *testing.T, delay time.Duration, steps ...step) *scriptedBackend {
	t.Helper()
	b := &scriptedBackend{steps: steps, delay: delay}
	b.srv = httptest.NewUnstartedServer(http.HandlerFunc(b.serve))
	b.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			b.opened.Add(1)
		case http.StateClosed, http.StateHijacked:
			b.closed.Add(1)
		}
	}
	b.srv.Start()
	t.Cleanup(b.srv.Close)
	return b
}

func (b *scriptedBackend) serve(w http.ResponseWriter, _ *http.Request) {
	b.mu.Lock()
	s := b.steps[min(b.next, len(b.steps)-1)]
	b.next++
	b.mu.Unlock()
	time.Sleep(b.delay)
	w.WriteHeader(s.code)
	_, _ = io.WriteString(w, s.body)
}

// TestRunReportsInOrder: a fake backend replays a status sequence; Run
// reports each probe's outcome in order, at a sub-second interval, over one
// kept-alive connection (the backend keeps it open after a 500 and a 503),
// closed when Run returns.
func TestRunReportsInOrder(t *testing.T) {
	b := newScriptedBackend(t, 0,
		step{200, "ok"},
		step{200, "ok"},
		step{500, "boom"},
		step{503, `{"status":"shutting_down"}`},
		step{503, "plain"},
		step{200, "ok"},
	)
	rec := &recorder{}
	const interval = 300 * time.Millisecond
	c := newChecker(t, Spec{Interval: interval, Timeout: 250 * time.Millisecond}, hostPort(b.srv), rec)
	stop := run(t, c)
	got := rec.waitFor(t, 6)
	stop()

	want := []struct {
		outcome Outcome
		code    int
	}{
		{OutcomeCheckPassed, 200},
		{OutcomeCheckPassed, 200},
		{OutcomeStatusMismatch, 500},
		{OutcomeBackendDraining, 503},
		{OutcomeStatusMismatch, 503},
		{OutcomeCheckPassed, 200},
	}
	for i, w := range want {
		if got[i].Outcome != w.outcome || got[i].Code != w.code {
			t.Errorf("report %d: got %s %d (err %v), want %s %d", i, got[i].Outcome, got[i].Code, got[i].Err, w.outcome, w.code)
		}
	}
	checkSpacing(t, got, interval)
	eventually(t, "every probe connection to be closed", func() bool {
		return b.opened.Load() == b.closed.Load()
	})
	if opened := b.opened.Load(); opened != 1 {
		t.Errorf("%d connections for %d probes: want one kept-alive connection", opened, len(rec.snapshot()))
	}
}

// checkSpacing asserts that probe starts are at least half an interval
// apart (each is scheduled one interval after the previous one's slot, and
// a late timer can eat into the gap that follows it, never more than half)
// and that no probe started before the previous one ended. Timers never
// fire early, so this holds however loaded the machine.
func checkSpacing(t *testing.T, got []Result, interval time.Duration) {
	t.Helper()
	floor := interval / 2
	for i := 1; i < len(got); i++ {
		prev, cur := got[i-1], got[i]
		if gap := cur.At.Sub(prev.At); gap < floor {
			t.Errorf("probes %d and %d started %v apart, want >= %v", i-1, i, gap, floor)
		}
		if cur.At.Before(prev.At.Add(prev.Latency)) {
			t.Errorf("probe %d started before probe %d ended: they overlap", i, i-1)
		}
	}
}

// TestRunSubSecondInterval: 100ms works, and a slow backend (answers take
// most of the interval) never has two probes overlap.
func TestRunSubSecondInterval(t *testing.T) {
	b := newScriptedBackend(t, 60*time.Millisecond, step{200, "ok"})
	rec := &recorder{}
	const interval = 100 * time.Millisecond
	c := newChecker(t, Spec{Interval: interval, Timeout: 95 * time.Millisecond}, hostPort(b.srv), rec)
	stop := run(t, c)
	got := rec.waitFor(t, 8)
	stop()
	checkSpacing(t, got, interval)
}

// TestRunStopsWhileWaiting: cancel between probes returns at once, not at
// the next tick.
func TestRunStopsWhileWaiting(t *testing.T) {
	srv := statusServer(t, 200, "ok")
	rec := &recorder{}
	c := newChecker(t, Spec{Interval: time.Minute, Timeout: 10 * time.Second}, hostPort(srv), rec)
	stop := run(t, c)
	rec.waitFor(t, 1)
	if took := stop(); took > 5*time.Second {
		t.Fatalf("Run took %v to return; the next probe was a minute away", took)
	}
	if n := rec.len(); n != 1 {
		t.Fatalf("%d reports, want 1", n)
	}
}

// TestRunStopsMidProbe: cancel while a probe waits on a silent backend
// abandons it at once and reports nothing.
func TestRunStopsMidProbe(t *testing.T) {
	srv := newRawServer(t, drain)
	rec := &recorder{}
	c := newChecker(t, Spec{Interval: time.Minute, Timeout: 30 * time.Second}, srv.addr, rec)
	stop := run(t, c)
	eventually(t, "the first probe to connect", func() bool { return srv.accepted.Load() > 0 })
	if took := stop(); took > 5*time.Second {
		t.Fatalf("Run took %v to return; the probe timeout is 30s", took)
	}
	if n := rec.len(); n != 0 {
		t.Fatalf("%d reports, want none: an abandoned probe says nothing about the backend", n)
	}
}

// TestRunFirstProbeSoon: with a long interval the first probe still comes
// at once, not after an interval.
func TestRunFirstProbeSoon(t *testing.T) {
	srv := statusServer(t, 200, "ok")
	rec := &recorder{}
	c := newChecker(t, Spec{Interval: time.Hour, Timeout: time.Minute}, hostPort(srv), rec)
	run(t, c)
	rec.waitFor(t, 1)
}

// TestRunLogsAtDebugOnly: one debug line per probe, nothing louder.
func TestRunLogsAtDebugOnly(t *testing.T) {
	srv := statusServer(t, 500, "boom")
	core, logs := observer.New(zapcore.DebugLevel)
	rec := &recorder{}
	c, err := New(Spec{Interval: 100 * time.Millisecond, Timeout: 90 * time.Millisecond}, hostPort(srv), rec, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, c)
	rec.waitFor(t, 3)
	stop()
	entries := logs.All()
	if len(entries) != rec.len() {
		t.Errorf("%d log lines for %d probes, want one each", len(entries), rec.len())
	}
	for _, e := range entries {
		if e.Level != zapcore.DebugLevel {
			t.Errorf("logged at %s: %q", e.Level, e.Message)
		}
		f := e.ContextMap()
		if f["backend"] != hostPort(srv) || f["check"] != TypeHTTP || f["outcome"] == nil {
			t.Errorf("log fields %v: want backend, check and outcome", f)
		}
	}
}
