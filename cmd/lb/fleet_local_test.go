package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/lbtrust/lb/internal/etcdtest"
)

// TestFleetPassiveStaysLocal: three lb processes share the checks of
// six or more backends; one backend, which lb1 does not own, answers 500 to the
// traffic lb1 sends (/local) and 200 to everything else, probes
// included. lb1's passive ejection holds it out on lb1 only (lb2 and lb3
// keep it healthy, the fleet's verdict is up), lb1 probes it itself
// while it holds it out, and once it answers again lb1's own probe
// brings it back after the ejection time and lb1 stops probing it.
func TestFleetPassiveStaysLocal(t *testing.T) {
	noGoroutinesLeft(t)

	etcd := etcdtest.Start(t)
	backends := startProbedBackends(t, 5)
	members := fleetMembers(3)
	// One more backend, which lb1 does not own (by hashing).
	bad, more := startBackendNotOwnedBy(t, "lb1", members, 2)
	backends = append(append(backends, more...), bad)
	lbs := startFleetOf(t, 3, etcd.Addr(), 2, func(int) []*probedBackend { return backends },
		"  passive {\n    base_ejection = \"1s\"\n  }\n")
	c := client(t, 5*time.Second)
	waitFleet(t, c, lbs, 3, backends, "healthy")

	bad.failLocal.Store(true)
	eventually(t, 30*time.Second, "lb1 ejects the backend that fails its traffic", func() bool {
		for range 20 {
			if resp, err := c.Get("http://" + lbs[0].listener + "/local"); err == nil {
				resp.Body.Close()
			}
		}
		v, ok := getFleetStatus(c, lbs[0].admin)
		b := v.states()[bad.addr()]
		return ok && b.State == "unhealthy" && b.Reason == "passive_ejection"
	})
	for _, l := range lbs[1:] {
		v, ok := getFleetStatus(c, l.admin)
		if b := v.states()[bad.addr()]; !ok || b.State != "healthy" {
			t.Errorf("%s shows the backend lb1 ejected as %+v; want healthy: an ejection stays local", l.member, b)
		}
	}
	eventually(t, 10*time.Second, "lb1 probes the backend it holds out", func() bool {
		v, ok := getFleetStatus(c, lbs[0].admin)
		return ok && v.Fleet.Local == 1 && bad.probers(time.Now().Add(-3 * fleetInterval))["lb1"] > 0
	})

	bad.failLocal.Store(false)
	eventually(t, 20*time.Second, "lb1 takes the backend back after the ejection, by its own probe", func() bool {
		v, ok := getFleetStatus(c, lbs[0].admin)
		b := v.states()[bad.addr()]
		return ok && b.State == "healthy" && v.Fleet.Local == 0
	})
	since := time.Now()
	time.Sleep(5 * fleetInterval) // a window to read the probe log over, not a wait for a condition
	if n := bad.probers(since)["lb1"]; n > 1 {
		t.Errorf("lb1 still probes the backend it does not own: %d probes in %s", n, time.Since(since).Round(time.Millisecond))
	}
	if code, _, _, err := httpGet(c, "http://"+lbs[0].listener+"/"); err != nil || code != http.StatusOK {
		t.Errorf("GET through lb1: %d %v", code, err)
	}
}
