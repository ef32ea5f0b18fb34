package server

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/lbtrust/lb/internal/dnstest"
	"github.com/lbtrust/lb/internal/etcdtest"
	"github.com/lbtrust/lb/pool"
)

// discoveryConfig is an LB with one pool "web" of the given static
// backends and discovery block, checked every 100ms.
func discoveryConfig(discovery string, static ...string) string {
	p := poolBlock("web", "100ms", static...)
	p = strings.TrimSuffix(p, "}\n") + discovery + "}\n"
	return "admin {\n  address = \"127.0.0.1:0\"\n}\n" + fmt.Sprintf(listenerBlock, "") + p
}

// portOf is the port of a 127.0.0.1:PORT address.
func portOf(t *testing.T, addr string) uint16 {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return uint16(n)
}

// sourceOf is the status of pool web's only discovery source.
func sourceOf(lb *LB) pool.SourceStatus {
	for _, p := range lb.Pools() {
		if p.Name() == "web" {
			if s := p.Sources(); len(s) == 1 {
				return s[0]
			}
		}
	}
	return pool.SourceStatus{}
}

// goneFromDiscovery: address left pool web because discovery stopped
// listing it (draining or drained with that hold, or already forgotten
// after such a drain).
func goneFromDiscovery(lb *LB, address string) func() bool {
	return func() bool {
		b, ok := stateOf(lb, "web", address)
		return !ok || (b.HeldBy == pool.ReasonRemovedFromDiscovery && b.State != pool.StateHealthy)
	}
}

// TestDNSDiscoveryDrivesThePool: a pool with no backend block follows an
// SRV name on a real DNS server: listed backends join after a passing
// check, an unlisted one drains (removed_from_discovery), SERVFAIL keeps
// the last set and shows the source stale (in /status and /readyz), a
// reload of the same file keeps the source running, and an NXDOMAIN (an
// authoritative empty answer) drains every backend.
func TestDNSDiscoveryDrivesThePool(t *testing.T) {
	b1, b2, b3 := startBackend(t, "b1"), startBackend(t, "b2"), startBackend(t, "b3")
	dns := dnstest.Start(t)
	const name = "_http._tcp.web.test"
	dns.SetA("h.test", 60, "127.0.0.1")
	srv := func(bs ...interface{ Addr() string }) {
		var recs []dnstest.SRV
		for _, b := range bs {
			recs = append(recs, dnstest.SRV{Priority: 10, Weight: 5, Port: portOf(t, b.Addr()), Target: "h.test", TTL: 1})
		}
		dns.SetSRV(name, recs...)
	}
	srv(b1, b2)

	src := discoveryConfig(fmt.Sprintf("  discovery \"dns\" {\n    name = %q\n    resolver = %q\n    refresh = \"1s\"\n  }\n", name, dns.Addr()))
	lb, _, _ := runFromFile(t, src)
	waitFor(t, "b1 healthy", healthy(lb, "web", b1.Addr()))
	waitFor(t, "b2 healthy", healthy(lb, "web", b2.Addr()))
	if b, _ := stateOf(lb, "web", b1.Addr()); b.Weight != 5 {
		t.Errorf("b1 weight %d, want the SRV weight 5", b.Weight)
	}
	if s := sourceOf(lb); s.State != pool.SourceOK || s.Backends != 2 || s.LastSuccess == nil {
		t.Errorf("source after the first lookup: %+v", s)
	}

	srv(b2, b3)
	waitFor(t, "b3 healthy", healthy(lb, "web", b3.Addr()))
	waitFor(t, "b1 gone from discovery", goneFromDiscovery(lb, b1.Addr()))

	dns.SetMode(name, dnstest.ServFail)
	waitFor(t, "source stale", func() bool { return sourceOf(lb).State == pool.SourceStale })
	for _, b := range []string{b2.Addr(), b3.Addr()} {
		if st, _ := stateOf(lb, "web", b); st.State != pool.StateHealthy {
			t.Errorf("%s is %s while DNS fails: the last set must stay", b, st.State)
		}
	}
	_, body := adminDo(t, "GET", "http://"+lb.AdminAddr().String()+"/readyz", "")
	if !strings.Contains(string(body), "stale") {
		t.Errorf("/readyz does not name the stale source: %s", body)
	}

	dns.SetMode(name, dnstest.Answer)
	waitFor(t, "source ok again", func() bool { return sourceOf(lb).State == pool.SourceOK })
	before := sourceOf(lb).Updates
	if err := lb.ReloadFile(); err != nil {
		t.Fatal(err)
	}
	if s := sourceOf(lb); s.State != pool.SourceOK || s.Updates < before {
		t.Errorf("a reload of the same file restarted the source: %+v (had %d updates)", s, before)
	}

	dns.Remove(name)
	waitFor(t, "b2 gone after NXDOMAIN", goneFromDiscovery(lb, b2.Addr()))
	waitFor(t, "b3 gone after NXDOMAIN", goneFromDiscovery(lb, b3.Addr()))
	if s := sourceOf(lb); s.State != pool.SourceOK || s.Backends != 0 {
		t.Errorf("after NXDOMAIN the source should be ok with 0 backends: %+v", s)
	}
}

// TestEtcdDiscoveryDrivesThePool: a pool with a static backend and an etcd
// prefix on a real etcd server: keys join, a deleted key drains, a key
// naming the static backend does not make a second one (the block's
// weight wins), and a stopped etcd keeps the set and shows the source
// stale until it is back.
func TestEtcdDiscoveryDrivesThePool(t *testing.T) {
	b1, b2, b3 := startBackend(t, "b1"), startBackend(t, "b2"), startBackend(t, "b3")
	etcd := etcdtest.Start(t)
	const prefix = "/lb/pools/web/"
	put := func(addr string, weight int) {
		t.Helper()
		v := fmt.Sprintf(`{"address":%q,"weight":%d}`, addr, weight)
		if _, err := etcd.Client().Put(context.Background(), prefix+addr, v); err != nil {
			t.Fatal(err)
		}
	}
	put(b1.Addr(), 2)
	put(b2.Addr(), 1) // also a static block, weight 3

	src := discoveryConfig(fmt.Sprintf("  discovery \"etcd\" {\n    endpoints = [%q]\n    prefix = %q\n  }\n",
		etcd.Addr(), prefix), b2.Addr()+" 3")
	lb, _, _ := runFromFile(t, src)
	waitFor(t, "b1 healthy", healthy(lb, "web", b1.Addr()))
	waitFor(t, "b2 healthy", healthy(lb, "web", b2.Addr()))
	if b, _ := stateOf(lb, "web", b2.Addr()); b.Weight != 3 {
		t.Errorf("b2 weight %d: the backend block's 3 wins over the key's 1", b.Weight)
	}
	if n := len(lb.Pools()[0].Backends()); n != 2 {
		t.Errorf("%d backends, want 2 (b2 is one backend, static and discovered)", n)
	}

	put(b3.Addr(), 1)
	waitFor(t, "b3 healthy", healthy(lb, "web", b3.Addr()))
	if _, err := etcd.Client().Delete(context.Background(), prefix+b1.Addr()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b1 gone from discovery", goneFromDiscovery(lb, b1.Addr()))

	etcd.Stop()
	waitFor(t, "source stale", func() bool { return sourceOf(lb).State == pool.SourceStale })
	for _, b := range []string{b2.Addr(), b3.Addr()} {
		if st, _ := stateOf(lb, "web", b); st.State != pool.StateHealthy {
			t.Errorf("%s is %s while etcd is down: the last set must stay", b, st.State)
		}
	}
	etcd.Restart()
	waitFor(t, "source ok again", func() bool { return sourceOf(lb).State == pool.SourceOK })
}
