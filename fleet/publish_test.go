package fleet

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/lbtrust/lb/internal/etcdtest"
)

// heard records what a Listener was told.
type heard struct {
	mu       sync.Mutex
	verdicts []Target
	drains   []Target
}

func (h *heard) VerdictsChanged(t Target) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.verdicts = append(h.verdicts, t)
}

func (h *heard) DrainChanged(t Target) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.drains = append(h.drains, t)
}

func (h *heard) count(drains bool, t Target) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.verdicts
	if drains {
		l = h.drains
	}
	n := 0
	for _, x := range l {
		if x == t {
			n++
		}
	}
	return n
}

// startListening is start with a Listener.
func startListening(t *testing.T, srv *etcdtest.Server, prefix, name string, l Listener) *Membership {
	t.Helper()
	m, err := New(Config{Endpoints: srv.Endpoints(), Prefix: prefix, Name: name, TTL: 2 * time.Second, Listener: l}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.Start(ctx)
	t.Cleanup(func() {
		cancel()
		select {
		case <-m.Done():
		case <-time.After(wait):
			t.Errorf("member %s did not stop within %s", name, wait)
		}
	})
	return m
}

// hasVerdict reports whether m sees member's verdict on tg in state s.
func hasVerdict(m *Membership, tg Target, member string, s State) bool {
	return slices.ContainsFunc(m.Verdicts(tg), func(v Verdict) bool { return v.Member == member && v.State == s })
}

// TestVerdictsAndDrainsReachEveryMember: a published verdict reaches the
// other member through etcd (and its Listener), a withdrawal removes it,
// a stopped member's verdicts go with its lease, and a drain issued
// through one member is seen by the other until it is lifted.
func TestVerdictsAndDrainsReachEveryMember(t *testing.T) {
	srv := etcdtest.Start(t)
	const prefix = "/lb/fleet/test/"
	h1, h2 := &heard{}, &heard{}
	m1 := startListening(t, srv, prefix, "lb-1", h1)
	m2 := startListening(t, srv, prefix, "lb-2", h2)
	eventually(t, "both connected and seeing each other", func() bool {
		return m1.Connected() && m2.Connected() && len(m1.Members()) == 2 && len(m2.Members()) == 2
	})

	web := Target{"web", "127.0.0.1:9001"}
	at := time.Now().UTC().Truncate(time.Millisecond)
	m1.Publish(Verdict{Target: web, State: StateDown, Reason: "timeout", Detail: "i/o timeout", At: at})
	if !hasVerdict(m1, web, "lb-1", StateDown) {
		t.Fatal("the publisher does not see its own verdict at once")
	}
	eventually(t, "lb-2 sees lb-1's verdict", func() bool { return hasVerdict(m2, web, "lb-1", StateDown) })
	if got := m2.Verdicts(web)[0]; got.Detail != "i/o timeout" || !got.At.Equal(at) || got.Target != web {
		t.Fatalf("lb-2 read %+v", got)
	}
	if h2.count(false, web) == 0 {
		t.Fatal("lb-2's Listener was not told")
	}
	if h1.count(false, web) != 0 {
		t.Fatal("lb-1's Listener was told of its own verdict")
	}

	m1.Publish(Verdict{Target: web, State: StateUp, Reason: "check_passed", At: at})
	eventually(t, "lb-2 sees the change", func() bool { return hasVerdict(m2, web, "lb-1", StateUp) })
	m1.Withdraw(web)
	eventually(t, "lb-2 sees the withdrawal", func() bool { return len(m2.Verdicts(web)) == 0 })

	// A drain through lb-2 reaches lb-1, and Undrain through lb-1 lifts it.
	ctx := context.Background()
	if err := m2.Drain(ctx, web); err != nil {
		t.Fatal(err)
	}
	eventually(t, "lb-1 sees lb-2's drain", func() bool { d, ok := m1.Drained(web); return ok && d.Member == "lb-2" })
	if h1.count(true, web) == 0 {
		t.Fatal("lb-1's Listener was not told of the drain")
	}
	if err := m1.Undrain(ctx, web); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both see the drain lifted", func() bool {
		_, a := m1.Drained(web)
		_, b := m2.Drained(web)
		return !a && !b
	})

	// Many verdicts at once go out in batches; all arrive.
	for i := range 200 {
		m2.Publish(Verdict{Target: Target{"big", "10.0.0.1:" + string(rune('a'+i%26)) + string(rune('a'+i/26))}, State: StateUp, Reason: "check_passed", At: at})
	}
	eventually(t, "lb-1 sees 200 verdicts of lb-2", func() bool {
		n := 0
		for i := range 200 {
			if hasVerdict(m1, Target{"big", "10.0.0.1:" + string(rune('a'+i%26)) + string(rune('a'+i/26))}, "lb-2", StateUp) {
				n++
			}
		}
		return n == 200
	})
	if w := m2.Writes(); w < 200 {
		t.Fatalf("lb-2 counted %d writes", w)
	}
}

// TestVerdictsComeBackUnderANewLease: when a member's lease is lost (its
// verdicts vanish with it), its next session republishes every verdict
// under the new lease.
func TestVerdictsComeBackUnderANewLease(t *testing.T) {
	srv := etcdtest.Start(t)
	const prefix = "/lb/fleet/test/"
	m1 := startListening(t, srv, prefix, "lb-1", nil)
	m2 := startListening(t, srv, prefix, "lb-2", nil)
	web := Target{"web", "127.0.0.1:9001"}
	m1.Publish(Verdict{Target: web, State: StateDown, Reason: "connection_refused", At: time.Now()})
	eventually(t, "lb-2 sees lb-1's verdict", func() bool { return hasVerdict(m2, web, "lb-1", StateDown) })

	// Revoke lb-1's lease behind its back: its keys vanish, its session
	// notices the lost lease and republishes under a new one.
	cli := srv.Client()
	leases, err := cli.Leases(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range leases.Leases {
		ttl, err := cli.TimeToLive(context.Background(), l.ID, clientv3.WithAttachedKeys())
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range ttl.Keys {
			if string(k) == prefix+"members/lb-1" {
				if _, err := cli.Revoke(context.Background(), l.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	eventually(t, "lb-1's verdict is back under a new lease", func() bool {
		resp, err := cli.Get(context.Background(), verdictKey(prefix, web, "lb-1"))
		return err == nil && len(resp.Kvs) == 1 && resp.Kvs[0].Lease != 0 && m1.Connected()
	})
	eventually(t, "lb-2 sees it again", func() bool { return hasVerdict(m2, web, "lb-1", StateDown) })
}
