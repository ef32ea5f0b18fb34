package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lbtrust/lb/fleet"
	"github.com/lbtrust/lb/internal/etcdtest"
)

// TestFleetSharesChecks is issue 17's end-to-end test: one etcd member
// (embedded), three lb processes sharing the checks of 30 backends (in
// this process, each logging who probed it) with replicas = 2, checks
// every 200 ms, two failures in a row down, member TTL 2 s:
//
//  1. each backend is probed by its two owners only (fleet.Owners over
//     the three members), and all three instances agree on every state;
//  2. a backend that stops is out of rotation on every instance, the one
//     that does not probe it included (the issue asks for interval ×
//     unhealthy_threshold + 1 s = 1.4 s; asserted within 10 s on this
//     shared machine, measured times logged);
//  3. a backend that fails only its second owner's probes is down on
//     every instance, named by that owner (out if any owner says out);
//  4. an operator's drain through lb1 drains it on lb2 and lb3, named
//     by lb1; an undrain through lb2 brings it back everywhere;
//  5. lb3 killed with SIGKILL: every backend it owned is probed by its
//     new owner within interval + TTL (+ 1 s of slack for this machine),
//     and none goes without a probe for longer (its other owner goes
//     on), read from the backends' probe logs.
func TestFleetSharesChecks(t *testing.T) {
	noGoroutinesLeft(t)

	etcd := etcdtest.Start(t)
	backends := startProbedBackends(t, 30)
	lbs := startFleet(t, 3, etcd.Addr(), 2, backends)
	c := client(t, 5*time.Second)
	waitFleet(t, c, lbs, 3, backends, "healthy")
	members := []string{"lb1", "lb2", "lb3"}
	owners := func(b *probedBackend, members []string) []string {
		return fleet.Owners("web/"+b.addr(), members, 2)
	}

	// 1. Two probers per backend, its owners, once ownership settled.
	window := 10 * fleetInterval
	var from time.Time
	eventually(t, 30*time.Second, "every backend probed by its two owners only", func() bool {
		from = time.Now()
		time.Sleep(window)
		for _, b := range backends {
			got := b.probers(from)
			if len(got) != 2 {
				return false
			}
			for _, o := range owners(b, members) {
				if got[o] == 0 {
					return false
				}
			}
		}
		return true
	})
	total := 0
	for _, b := range backends {
		for _, n := range b.probers(from) {
			total += n
		}
	}
	intervals := float64(time.Since(from)) / float64(fleetInterval)
	t.Logf("3 instances, replicas 2: %.2f probes per backend per interval (%d probes of %d backends over %.1f intervals)",
		float64(total)/float64(len(backends))/intervals, total, len(backends), intervals)
	agree(t, c, lbs, backends)
	if code, body, _, err := httpGet(c, "http://"+lbs[0].admin+"/metrics"); err != nil || code != 200 ||
		!strings.Contains(body, "\nlb_fleet_connected 1\n") || !strings.Contains(body, "\nlb_fleet_members 3\n") ||
		!strings.Contains(body, `lb_fleet_probed_backends{why="owned"}`) {
		t.Errorf("/metrics of lb1 lacks the fleet's gauges: %d %v", code, err)
	}

	// 2. A backend stops.
	dead := backends[0]
	stopAt := time.Now()
	dead.srv.Close()
	for _, l := range lbs {
		eventually(t, 10*time.Second, l.member+": stopped backend out of rotation", func() bool {
			v, ok := getFleetStatus(c, l.admin)
			return ok && v.states()[dead.addr()].State == "unhealthy"
		})
		prober := slices.Contains(owners(dead, members), l.member)
		t.Logf("%s (owner: %v): stopped backend unhealthy after %s", l.member, prober, time.Since(stopAt).Round(time.Millisecond))
	}
	agree(t, c, lbs, backends)

	// 3. A backend fails its second owner's probes only.
	split := backends[1]
	o := owners(split, members)
	split.failHost.Store(&o[1])
	for _, l := range lbs {
		eventually(t, 10*time.Second, l.member+": backend failing one owner's probes is down, by that owner", func() bool {
			v, ok := getFleetStatus(c, l.admin)
			b := v.states()[split.addr()]
			return ok && b.State == "unhealthy" && b.By == o[1] && b.Reason == "status_mismatch"
		})
	}
	split.failHost.Store(nil)
	for _, l := range lbs {
		eventually(t, 10*time.Second, l.member+": the split backend back once both owners pass", func() bool {
			v, ok := getFleetStatus(c, l.admin)
			return ok && v.states()[split.addr()].State == "healthy"
		})
	}

	// 4. Drain through lb1, undrain through lb2.
	drained := backends[2]
	drainAt := time.Now()
	if code, body, err := post(c, "http://"+lbs[0].admin+"/pools/web/backends/"+drained.addr()+"/drain"); err != nil || code != 200 {
		t.Fatalf("drain through lb1: %d %s %v", code, body, err)
	}
	for _, l := range lbs[1:] {
		eventually(t, 10*time.Second, l.member+": drained through lb1", func() bool {
			v, ok := getFleetStatus(c, l.admin)
			b := v.states()[drained.addr()]
			return ok && b.HeldBy == "admin_drain" && b.By == "lb1"
		})
		t.Logf("%s: drain through lb1 applied after %s", l.member, time.Since(drainAt).Round(time.Millisecond))
	}
	if code, body, err := post(c, "http://"+lbs[1].admin+"/pools/web/backends/"+drained.addr()+"/undrain"); err != nil || code != 200 {
		t.Fatalf("undrain through lb2: %d %s %v", code, body, err)
	}
	for _, l := range lbs {
		eventually(t, 10*time.Second, l.member+": undrained through lb2 and healthy", func() bool {
			v, ok := getFleetStatus(c, l.admin)
			b := v.states()[drained.addr()]
			return ok && b.HeldBy == "" && b.State == "healthy"
		})
	}

	// 5. lb3 dies.
	killAt := time.Now()
	lbs[2].proc.signal(t, syscall.SIGKILL)
	limit := fleetInterval + fleetTTL
	settle := killAt.Add(limit + 3*time.Second)
	time.Sleep(time.Until(settle)) // the window the gaps are read over, not a wait for a condition
	var worst, takeover time.Duration
	for _, b := range backends[3:] {
		if !slices.Contains(owners(b, members), "lb3") {
			continue
		}
		gap := b.longestGap(killAt, settle)
		worst = max(worst, gap)
		if gap > limit+time.Second {
			t.Errorf("backend %s (owners %v) went %s without a probe after lb3 died; want at most interval + TTL = %s",
				b.addr(), owners(b, members), gap.Round(time.Millisecond), limit)
		}
		// Its new owner: the survivor that did not own it before.
		heir := slices.DeleteFunc(owners(b, members[:2]), func(m string) bool { return slices.Contains(owners(b, members), m) })
		if len(heir) != 1 {
			t.Fatalf("backend %s: owners %v before, %v after: want one heir", b.addr(), owners(b, members), owners(b, members[:2]))
		}
		first := time.Duration(-1)
		for _, p := range b.probesSince(killAt) {
			if p.from == heir[0] {
				first = p.at.Sub(killAt)
				break
			}
		}
		if first < 0 || first > limit+time.Second {
			t.Errorf("backend %s: its new owner %s first probed it %s after lb3 died; want within interval + TTL = %s",
				b.addr(), heir[0], first.Round(time.Millisecond), limit)
		}
		takeover = max(takeover, first)
	}
	t.Logf("after lb3's SIGKILL: its backends' new owners probed them within %s, longest time one went unprobed %s (interval + TTL = %s)",
		takeover.Round(time.Millisecond), worst.Round(time.Millisecond), limit)
	waitFleet(t, c, lbs[:2], 2, backends[1:], "healthy")
}

// agree asserts that every lb shows every backend in the same state.
func agree(t *testing.T, c *http.Client, lbs []*fleetLB, backends []*probedBackend) {
	t.Helper()
	eventually(t, 10*time.Second, "every instance shows the same state for every backend", func() bool {
		var first map[string]fleetBackendView
		for _, l := range lbs {
			v, ok := getFleetStatus(c, l.admin)
			if !ok {
				return false
			}
			st := v.states()
			if first == nil {
				first = st
				continue
			}
			for _, b := range backends {
				if st[b.addr()].State != first[b.addr()].State {
					return false
				}
			}
		}
		return true
	})
}

// fleetMembers names members lb1..lbn.
func fleetMembers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("lb%d", i+1)
	}
	return out
}
