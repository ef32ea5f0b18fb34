package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lbtrust/lb/internal/etcdtest"
)

// fleetLoadRate is the GET rate of TestFleetWithoutEtcd, spread over the
// three LBs.
const fleetLoadRate = 300

// TestFleetWithoutEtcd runs three lb processes sharing the checks of ten
// backends (replicas 2) under 300 GET/s spread over them, plus one
// backend only lb3's configuration lists and lb3 does not own:
//
//  1. lb3 adopts that backend (no owner publishes on it) and routes to
//     it, while lb1 and lb2 never probe it;
//  2. etcd stops: every instance probes every backend itself within one
//     TTL (+ 2 s of slack for this machine; measured time logged), says
//     so in /status and in /readyz, which stays 200;
//  3. etcd comes back: sharing resumes (two probers per backend again);
//
// and no request of the whole run fails.
func TestFleetWithoutEtcd(t *testing.T) {
	noGoroutinesLeft(t)

	etcd := etcdtest.Start(t)
	backends := startProbedBackends(t, 10)
	members := fleetMembers(3)
	// A backend lb3 alone lists, owned (by hashing) by lb1 and lb2 only.
	skew, _ := startBackendNotOwnedBy(t, "lb3", members, 2)
	lbs := startFleetOf(t, 3, etcd.Addr(), 2, func(i int) []*probedBackend {
		if i == 2 {
			return append(slices.Clip(backends), skew)
		}
		return backends
	}, "")
	c := client(t, 5*time.Second)
	waitFleet(t, c, lbs, 3, backends, "healthy")

	// 1. The backend only lb3 lists.
	eventually(t, 30*time.Second, "lb3 adopted the backend only it lists", func() bool {
		v, ok := getFleetStatus(c, lbs[2].admin)
		return ok && v.Fleet.Adopted == 1 && v.states()[skew.addr()].State == "healthy"
	})
	if got := skew.probers(time.Time{}); len(got) != 1 || got["lb3"] == 0 {
		t.Errorf("the backend only lb3 lists was probed by %v, want lb3 only", got)
	}

	twoProbers := func(what string) {
		t.Helper()
		eventually(t, 30*time.Second, what, func() bool {
			from := time.Now()
			time.Sleep(5 * fleetInterval)
			for _, b := range backends {
				if len(b.probers(from)) != 2 {
					return false
				}
			}
			return true
		})
	}
	twoProbers("every backend probed by two owners")

	urls := make([]string, len(lbs))
	for i, l := range lbs {
		urls[i] = "http://" + l.listener + "/"
	}
	load := startSpreadLoad(t, fleetLoadRate, urls...)
	load.waitMore(t, fleetLoadRate)

	// 2. etcd stops.
	// Stop returns once the member is down: an embedded etcd keeps its
	// open streams (watches, keep-alives) served while it closes, for
	// seconds, so the clock starts when they are cut.
	stopping := time.Now()
	etcd.Stop()
	stopAt := time.Now()
	t.Logf("etcd took %s to stop", stopAt.Sub(stopping).Round(time.Millisecond))
	eventually(t, fleetTTL+2*time.Second+5*time.Second, "every backend probed by all three instances", func() bool {
		since := time.Now().Add(-2 * fleetInterval)
		for _, b := range backends {
			if len(b.probers(since)) != 3 {
				return false
			}
		}
		return true
	})
	alone := time.Since(stopAt)
	if alone > fleetTTL+2*time.Second {
		t.Errorf("every instance probed everything itself %s after etcd stopped; want within one TTL (%s)", alone.Round(time.Millisecond), fleetTTL)
	}
	t.Logf("etcd stopped: every instance probes every backend itself after %s (TTL %s)", alone.Round(time.Millisecond), fleetTTL)
	for _, l := range lbs {
		eventually(t, 10*time.Second, l.member+": /status and /readyz say etcd is unreachable", func() bool {
			v, ok := getFleetStatus(c, l.admin)
			if !ok || v.Fleet.Connected {
				return false
			}
			code, body, _, err := httpGet(c, "http://"+l.admin+"/readyz")
			return err == nil && code == 200 && strings.Contains(body, "etcd unreachable")
		})
	}
	load.waitMore(t, 2*fleetLoadRate)

	// 3. etcd is back.
	etcd.Restart()
	waitFleet(t, c, lbs, 3, backends, "healthy")
	twoProbers("sharing resumed: two probers per backend again")
	load.waitMore(t, fleetLoadRate)

	results := load.end()
	failed := 0
	for _, r := range results {
		if r.failed() {
			failed++
			if failed <= 5 {
				t.Errorf("request to lb%d failed: status %d, %v", r.lb+1, r.status, r.err)
			}
		}
	}
	t.Logf("%d requests under load, %d failed", len(results), failed)
}

// TestFleetStartsWithoutEtcd: an instance whose fleet's etcd cannot be
// reached at start goes on alone after the member TTL: it probes every
// backend itself, routes to them, and /readyz (200) says why.
func TestFleetStartsWithoutEtcd(t *testing.T) {
	noGoroutinesLeft(t)

	nowhere := freePorts(t, 1)[0] // nothing listens there
	backends := startProbedBackends(t, 3)
	lbs := startFleet(t, 1, nowhere, 2, backends)
	c := client(t, 5*time.Second)
	started := time.Now()
	eventually(t, 30*time.Second, "every backend healthy without etcd", func() bool {
		v, ok := getFleetStatus(c, lbs[0].admin)
		if !ok || v.Fleet.Connected {
			return false
		}
		for _, b := range backends {
			if v.states()[b.addr()].State != "healthy" {
				return false
			}
		}
		return true
	})
	t.Logf("alone after %s (TTL %s)", time.Since(started).Round(time.Millisecond), fleetTTL)
	code, body, _, err := httpGet(c, "http://"+lbs[0].admin+"/readyz")
	if err != nil || code != 200 || !strings.Contains(body, "etcd unreachable") {
		t.Errorf("/readyz: %d %v\n%s", code, err, body)
	}
	if code, _, _, err := httpGet(c, "http://"+lbs[0].listener+"/"); err != nil || code != 200 {
		t.Errorf("GET through the lb: %d %v", code, err)
	}
	if _, ok := lbs[0].proc.findLog(func(e logEntry) bool {
		return strings.HasPrefix(e.str("msg"), "fleet: etcd unreachable since start")
	}); !ok {
		t.Error("the lb did not log that it goes on alone")
	}
}
