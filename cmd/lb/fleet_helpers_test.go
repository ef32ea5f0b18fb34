package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbtrust/lb/fleet"
)

// The fleet tests' settings: checks every fleetInterval, two failures
// in a row are down, member leases of fleetTTL.
const (
	fleetInterval  = 200 * time.Millisecond
	fleetUnhealthy = 2
	fleetTTL       = 2 * time.Second
	fleetPrefix    = "/lb/fleet/test/"
)

// probedBackend is a backend in the test process that logs every health
// probe with the lb instance that sent it (each instance's checks send
// its member name as Host) and can be told to fail one instance's probes
// only, or to stop.
type probedBackend struct {
	name string
	srv  *httptest.Server

	failHost atomic.Pointer[string] // probes with this Host answer 503
	// failLocal makes requests for /local answer 500 (traffic one lb
	// sends there; the others send /).
	failLocal atomic.Bool

	mu     sync.Mutex
	probes []probeSeen
}

// probeSeen is one health probe a backend answered.
type probeSeen struct {
	from string // the lb member (Host header)
	at   time.Time
}

// startProbedBackends starts n backends named p1..pn, closed at cleanup.
func startProbedBackends(t *testing.T, n int) []*probedBackend {
	out := make([]*probedBackend, n)
	for i := range out {
		b := &probedBackend{name: fmt.Sprintf("p%d", i+1)}
		b.srv = httptest.NewServer(http.HandlerFunc(b.serve))
		t.Cleanup(b.srv.Close)
		out[i] = b
	}
	return out
}

// addr is the backend's host:port.
func (b *probedBackend) addr() string { return b.srv.Listener.Addr().String() }

// serve answers a probe (/healthz) or a request (anything else).
func (b *probedBackend) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Backend", b.name)
	if r.URL.Path != "/healthz" {
		if r.URL.Path == "/local" && b.failLocal.Load() {
			w.WriteHeader(http.StatusInternalServerError)
		}
		fmt.Fprintf(w, "%s\n", b.name)
		return
	}
	b.mu.Lock()
	b.probes = append(b.probes, probeSeen{from: r.Host, at: time.Now()})
	b.mu.Unlock()
	if h := b.failHost.Load(); h != nil && *h == r.Host {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
}

// probesSince returns the probes answered at or after since.
func (b *probedBackend) probesSince(since time.Time) []probeSeen {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []probeSeen
	for _, p := range b.probes {
		if !p.at.Before(since) {
			out = append(out, p)
		}
	}
	return out
}

// probers counts the probes since since by member.
func (b *probedBackend) probers(since time.Time) map[string]int {
	out := map[string]int{}
	for _, p := range b.probesSince(since) {
		out[p.from]++
	}
	return out
}

// longestGap is the longest time in [from, to] with no probe from any
// member.
func (b *probedBackend) longestGap(from, to time.Time) time.Duration {
	last, gap := from, time.Duration(0)
	for _, p := range b.probesSince(from) {
		if p.at.After(to) {
			break
		}
		gap = max(gap, p.at.Sub(last))
		last = p.at
	}
	return max(gap, to.Sub(last))
}

// fleetLBConfig is member's configuration: pool "web" of the backends,
// probed on /healthz with Host member, sharing checks with replicas
// owners through the etcd member at etcdAddr.
func fleetLBConfig(admin, listener, member, etcdAddr string, replicas int, backends []*probedBackend, poolExtra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "admin {\n  address = %q\n}\n", admin)
	fmt.Fprintf(&b, "listener \"public\" {\n  address = %q\n  pool    = \"web\"\n}\n", listener)
	fmt.Fprintf(&b, "pool \"web\" {\n  health_check {\n    path = \"/healthz\"\n    host = %q\n"+
		"    interval = %q\n    timeout = \"150ms\"\n    healthy_threshold = 2\n    unhealthy_threshold = %d\n  }\n",
		member, fleetInterval.String(), fleetUnhealthy)
	b.WriteString(poolExtra)
	for _, be := range backends {
		fmt.Fprintf(&b, "  backend %q {}\n", be.addr())
	}
	b.WriteString("}\n")
	fmt.Fprintf(&b, "fleet {\n  member = %q\n  replicas = %d\n  ttl = %q\n  etcd {\n    endpoints = [%q]\n    prefix = %q\n  }\n}\n",
		member, replicas, fleetTTL.String(), etcdAddr, fleetPrefix)
	return b.String()
}

// fleetView is the part of /status the fleet tests read.
type fleetView struct {
	Fleet *struct {
		Member    string   `json:"member"`
		Connected bool     `json:"connected"`
		Members   []string `json:"members"`
		Backends  int      `json:"backends"`
		Owned     int      `json:"owned"`
		Adopted   int      `json:"adopted"`
		Local     int      `json:"local"`
		Writes    uint64   `json:"writes"`
		Events    uint64   `json:"events"`
	} `json:"fleet"`
	Pools []struct {
		Backends []fleetBackendView `json:"backends"`
	} `json:"pools"`
}

// fleetBackendView is a /status backend with its fleet attribution.
type fleetBackendView struct {
	Address string `json:"address"`
	State   string `json:"state"`
	Reason  string `json:"reason"`
	HeldBy  string `json:"held_by"`
	By      string `json:"by"`
}

// getFleetStatus reads /status; false if it cannot.
func getFleetStatus(c *http.Client, admin string) (fleetView, bool) {
	resp, err := c.Get("http://" + admin + "/status")
	if err != nil {
		return fleetView{}, false
	}
	defer resp.Body.Close()
	var v fleetView
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&v) != nil || v.Fleet == nil || len(v.Pools) != 1 {
		return fleetView{}, false
	}
	return v, true
}

// states maps each backend's address to its view.
func (v fleetView) states() map[string]fleetBackendView {
	out := map[string]fleetBackendView{}
	for _, b := range v.Pools[0].Backends {
		out[b.Address] = b
	}
	return out
}

// fleetLB is one lb process of a fleet test.
type fleetLB struct {
	member          string
	admin, listener string
	proc            *proc
}

// startFleet starts n lb processes lb1..lbn over backends.
func startFleet(t *testing.T, n int, etcdAddr string, replicas int, backends []*probedBackend) []*fleetLB {
	return startFleetOf(t, n, etcdAddr, replicas, func(int) []*probedBackend { return backends }, "")
}

// startFleetOf starts n lb processes lb1..lbn, lb(i+1) over backendsOf(i);
// poolExtra goes in each pool block.
func startFleetOf(t *testing.T, n int, etcdAddr string, replicas int, backendsOf func(i int) []*probedBackend, poolExtra string) []*fleetLB {
	ports := freePorts(t, 2*n)
	out := make([]*fleetLB, n)
	for i := range out {
		l := &fleetLB{member: fmt.Sprintf("lb%d", i+1), admin: ports[2*i], listener: ports[2*i+1]}
		l.proc, _ = startLB(t, fleetLBConfig(l.admin, l.listener, l.member, etcdAddr, replicas, backendsOf(i), poolExtra))
		out[i] = l
	}
	return out
}

// waitFleet waits until every lb sees the same members and connected,
// with every backend in state want.
func waitFleet(t *testing.T, c *http.Client, lbs []*fleetLB, members int, backends []*probedBackend, want string) {
	t.Helper()
	for _, l := range lbs {
		eventually(t, 60*time.Second, fmt.Sprintf("%s: %d members, every backend %s", l.member, members, want), func() bool {
			v, ok := getFleetStatus(c, l.admin)
			if !ok || !v.Fleet.Connected || len(v.Fleet.Members) != members {
				return false
			}
			st := v.states()
			for _, b := range backends {
				if st[b.addr()].State != want {
					return false
				}
			}
			return true
		})
	}
}

// startBackendNotOwnedBy starts backends until one is not among the
// owners member would have over members with replicas (rendezvous
// hashing of "web/"+address); it returns that one and those started
// before it, which member owns.
func startBackendNotOwnedBy(t *testing.T, member string, members []string, replicas int) (b *probedBackend, owned []*probedBackend) {
	for {
		b := startProbedBackends(t, 1)[0]
		if !slices.Contains(fleet.Owners("web/"+b.addr(), members, replicas), member) {
			return b, owned
		}
		owned = append(owned, b)
	}
}
