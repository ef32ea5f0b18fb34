package pool

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// lockCheckCore is a zap core that, for every line written, tries to take
// the pool's lock. A lock that another goroutine holds for a moment is
// taken within lockWait; a lock held by the goroutine writing the line
// never is, and the line is recorded as written under the lock.
type lockCheckCore struct {
	pool atomic.Pointer[Pool]

	mu        sync.Mutex
	written   map[string]int
	underLock []string
}

// lockWait is how long Write waits for the pool's lock before it calls
// the line written under it (generous: any other holder lets go in far
// less).
const lockWait = time.Second

func newLockCheckCore() *lockCheckCore { return &lockCheckCore{written: map[string]int{}} }

func (c *lockCheckCore) Enabled(zapcore.Level) bool        { return true }
func (c *lockCheckCore) With([]zapcore.Field) zapcore.Core { return c }
func (c *lockCheckCore) Sync() error                       { return nil }
func (c *lockCheckCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	return ce.AddCore(e, c)
}

func (c *lockCheckCore) Write(e zapcore.Entry, _ []zapcore.Field) error {
	free := false
	if p := c.pool.Load(); p != nil {
		for deadline := time.Now().Add(lockWait); !free && time.Now().Before(deadline); {
			if free = p.mu.TryLock(); free {
				p.mu.Unlock()
			} else {
				time.Sleep(time.Millisecond)
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.written[e.Message]++
	if !free {
		c.underLock = append(c.underLock, e.Message)
	}
	return nil
}

// count is how many lines with message msg were written.
func (c *lockCheckCore) count(msg string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.written[msg]
}

// TestNothingIsLoggedUnderThePoolLock goes through every line the pool
// logs (a transition, from a probe and from the request path; a routing
// mode change, from a transition and from SetResilience; a deregistration
// timeout, from its timer; a forgotten backend; a re-estimated
// silent_after) with a logger that fails any line written while the
// pool's lock is held: a slow log sink must never stall the pool.
func TestNothingIsLoggedUnderThePoolLock(t *testing.T) {
	core := newLockCheckCore()
	res := Resilience{
		Passive: Passive{Enabled: true, ConsecutiveFailures: 1, BaseEjection: time.Hour, MaxEjectedPercent: 50},
		Silent:  Silent{Enabled: true},
	}
	p := New(Options{Name: "web", Policy: &rrPolicy{}, Thresholds: Thresholds{Healthy: 1, Unhealthy: 1},
		DeregistrationDelay: 20 * time.Millisecond, Resilience: res, Logger: zap.New(core)})
	t.Cleanup(p.Close)
	core.pool.Store(p)
	var bs []*Backend
	for _, a := range []string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"} {
		b, _, err := p.Add(a, 1)
		if err != nil {
			t.Fatal(err)
		}
		bs = append(bs, b)
	}
	healthyAll(bs) // transitions from a probe

	// Passive ejection: a transition from the request path.
	bs[0].inFlight.Add(1)
	bs[0].Release(RequestServerError, 0)
	if bs[0].State() != StateUnhealthy {
		t.Fatalf("not ejected: %s", bs[0].State())
	}
	// Every backend down: the pool fails open (a routing mode change from a
	// transition), then closed (one from SetResilience).
	fail(bs[1])
	fail(bs[2])
	res.FailClosed = true
	p.SetResilience(res)
	if p.Mode() != "fail_closed" {
		t.Fatalf("mode %s", p.Mode())
	}

	// The auto silent_after, re-estimated from enough answers.
	for range 20 {
		p.signals.latency.record(10 * time.Millisecond)
	}
	var prev [latencyBuckets]uint64
	p.estimateSilentAfter(&prev)

	// A drain whose deregistration delay runs out (its timer), and a
	// backend removed with nothing in flight (forgotten at once).
	pass(bs[2])
	bs[2].inFlight.Add(1)
	if err := p.Drain(bs[2].Address()); err != nil {
		t.Fatal(err)
	}
	if err := p.Remove(bs[1].Address()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for core.count("deregistration delay over: cancelling in-flight requests") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the deregistration timer never logged")
		}
		time.Sleep(5 * time.Millisecond)
	}
	bs[2].Release(RequestLocal, 0)

	for _, msg := range []string{"backend state changed", "pool routing mode changed",
		"silent_after re-estimated", "backend removed"} {
		if core.count(msg) == 0 {
			t.Errorf("never logged %q: the test did not exercise it", msg)
		}
	}
	core.mu.Lock()
	defer core.mu.Unlock()
	if len(core.underLock) > 0 {
		t.Fatalf("logged with the pool's lock held: %q", core.underLock)
	}
}
