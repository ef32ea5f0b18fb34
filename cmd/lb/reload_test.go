package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReloadRemovesBackendAndRejectsBrokenFile: a SIGHUP that removes a
// backend with slow requests in flight lets them complete, sends it
// nothing new, and forgets it once drained; a SIGHUP with a broken file
// changes nothing and /status shows where the file is wrong; POST /reload
// with a new backend brings it in through INITIAL.
func TestReloadRemovesBackendAndRejectsBrokenFile(t *testing.T) {
	a := freePorts(t, 6)
	adminAddr, lbAddr, b1, b2, b3, b4 := a[0], a[1], a[2], a[3], a[4], a[5]
	startBackend(t, b1, "b1")
	startBackend(t, b2, "b2")
	startBackend(t, b3, "b3")
	lb, path := startLB(t, lbConfig(adminAddr, lbAddr, "", "", b1, b2, b3))
	c := client(t, 5*time.Second)
	waitHealthy(t, c, adminAddr, b1, b2, b3)

	// Round robin over three: two slow requests each.
	slow := client(t, 20*time.Second)
	var chans []<-chan reply
	for range 6 {
		chans = append(chans, getAsync(slow, "http://"+lbAddr+"/?sleep=2s"))
	}
	eventually(t, 10*time.Second, "6 slow requests in flight, some on b3", func() bool {
		st, ok := getStatus(c, adminAddr)
		b, _ := st.backend(b3)
		return ok && st.inFlight() == 6 && b.InFlight > 0
	})
	writeFile(t, path, lbConfig(adminAddr, lbAddr, "", "", b1, b2))
	lb.signal(t, syscall.SIGHUP)
	eventually(t, 5*time.Second, "b3 draining, removed from config, its requests still running", func() bool {
		b, ok := backendStatus(t, c, adminAddr, b3)
		return ok && b.State == "draining" && b.Reason == "removed_from_config" &&
			b.HeldBy == "removed_from_config" && b.InFlight > 0
	})
	st, _ := getStatus(c, adminAddr)
	if r := st.LastReload; r == nil || !r.OK || !slices.ContainsFunc(r.Changes, func(s string) bool {
		return strings.Contains(s, b3) && strings.Contains(s, "removed")
	}) {
		t.Errorf("last_reload after removing b3: %+v", r)
	}
	// Nothing new goes to b3.
	for i := range 30 {
		code, _, backend, err := httpGet(c, "http://"+lbAddr+"/")
		if err != nil || code != 200 || (backend != "b1" && backend != "b2") {
			t.Fatalf("request %d after the reload: status %d, backend %q, err %v", i, code, backend, err)
		}
	}
	served := map[string]int{}
	for _, r := range collect(t, 15*time.Second, chans) {
		if r.err != nil || r.code != 200 {
			t.Errorf("slow request: status %d, err %v", r.code, r.err)
		}
		served[r.backend]++
	}
	t.Logf("slow requests answered by %v", served)
	if served["b3"] == 0 {
		t.Errorf("no slow request was answered by b3: the test did not test it")
	}
	eventually(t, 10*time.Second, "b3 gone from /status", func() bool {
		st, ok := getStatus(c, adminAddr)
		_, found := st.backend(b3)
		return ok && !found
	})

	// A broken file: an unknown attribute on a known line.
	st, _ = getStatus(c, adminAddr)
	prev := st.LastReload.At
	lines := strings.Split(lbConfig(adminAddr, lbAddr, "", `  deregistration_delay = "5s"`, b1, b2, b4), "\n")
	at := slices.Index(lines, `pool "web" {`) + 1
	lines = slices.Insert(lines, at, "  bogus_attribute = 1")
	line, col := at+1, 3
	writeFile(t, path, strings.Join(lines, "\n"))
	lb.signal(t, syscall.SIGHUP)
	eventually(t, 5*time.Second, "the broken reload in /status", func() bool {
		st, _ = getStatus(c, adminAddr)
		return st.LastReload != nil && st.LastReload.At.After(prev)
	})
	want := fmt.Sprintf("lb.hcl:%d,%d", line, col)
	if r := st.LastReload; r.OK || r.Error == "" || !slices.ContainsFunc(r.Diagnostics, func(d string) bool {
		return strings.Contains(d, want) && strings.Contains(d, "bogus_attribute")
	}) {
		t.Errorf("last_reload %+v: want ok false and a diagnostic at %s naming bogus_attribute", r, want)
	} else {
		t.Logf("broken file: %s: %q", r.Error, r.Diagnostics)
	}
	if got := st.addresses(); !slices.Equal(got, []string{b1, b2}) {
		t.Errorf("backends after a broken reload: %v, want [%s %s]", got, b1, b2)
	}
	if st.Pools[0].DeregistrationDelaySeconds != 300 {
		t.Errorf("deregistration delay %vs after a broken reload, want 300s", st.Pools[0].DeregistrationDelaySeconds)
	}
	for _, addr := range []string{b1, b2} {
		if b, _ := st.backend(addr); b.State != "healthy" {
			t.Errorf("%s %s after a broken reload", addr, b.State)
		}
	}
	for i := range 10 {
		if code, _, backend, err := httpGet(c, "http://"+lbAddr+"/"); err != nil || code != 200 || (backend != "b1" && backend != "b2") {
			t.Fatalf("request %d after the broken reload: status %d, backend %q, err %v", i, code, backend, err)
		}
	}
	if _, ok := lb.findLog(func(e logEntry) bool {
		return strings.Contains(e.str("msg"), "invalid configuration") && strings.Contains(e.str("diagnostic"), want)
	}); !ok {
		t.Errorf("the log does not show the diagnostic at %s", want)
	}

	// POST /reload with a valid file that adds b4.
	startBackend(t, b4, "b4")
	writeFile(t, path, lbConfig(adminAddr, lbAddr, "", "", b1, b2, b4))
	code, body, err := post(c, "http://"+adminAddr+"/reload")
	var r reloadView
	if err != nil || code != 200 || json.Unmarshal([]byte(body), &r) != nil || !r.OK ||
		!slices.ContainsFunc(r.Changes, func(s string) bool { return strings.Contains(s, b4) && strings.Contains(s, "added") }) {
		t.Fatalf("POST /reload: %d %v %s", code, err, body)
	}
	if b, ok := backendStatus(t, c, adminAddr, b4); ok {
		t.Logf("b4 right after POST /reload: %s (%s)", b.State, b.Reason)
	}
	waitHealthy(t, c, adminAddr, b1, b2, b4)
	if _, ok := lb.findLog(func(e logEntry) bool {
		return e.str("msg") == "backend state changed" && e.str("backend") == b4 &&
			e.str("from") == "initial" && e.str("to") == "healthy" && e.str("reason") == "initial_check"
	}); !ok {
		t.Errorf("no log line for b4 initial -> healthy (initial_check)")
	}
	eventually(t, 10*time.Second, "b4 serves", func() bool {
		code, _, backend, err := httpGet(c, "http://"+lbAddr+"/")
		return err == nil && code == 200 && backend == "b4"
	})
}

// TestReloadRefusesListenerAddressChange: a file that moves a listener
// cannot be applied live; it is refused whole with a message naming the
// listener and both addresses.
func TestReloadRefusesListenerAddressChange(t *testing.T) {
	a := freePorts(t, 5)
	adminAddr, lbAddr, movedAddr, b1, b2 := a[0], a[1], a[2], a[3], a[4]
	startBackend(t, b1, "b1")
	lb, path := startLB(t, lbConfig(adminAddr, lbAddr, "", "", b1))
	c := client(t, 5*time.Second)
	waitHealthy(t, c, adminAddr, b1)

	// The listener moves; a backend and a pool setting change too, and
	// must not be applied either.
	writeFile(t, path, lbConfig(adminAddr, movedAddr, "", `  deregistration_delay = "5s"`, b1, b2))
	code, body, err := post(c, "http://"+adminAddr+"/reload")
	want := fmt.Sprintf(`listener "public": address %s -> %s`, lbAddr, movedAddr)
	var r reloadView
	if err != nil || code != 400 || json.Unmarshal([]byte(body), &r) != nil || r.OK || !strings.Contains(r.Error, want) {
		t.Fatalf("POST /reload = %d %v %s; want 400 naming %s", code, err, body, want)
	}
	t.Logf("refused: %s", r.Error)
	lb.signal(t, syscall.SIGHUP)
	eventually(t, 5*time.Second, "the SIGHUP reload refused and logged", func() bool {
		n := 0
		for _, e := range lb.logEntries() {
			if strings.HasPrefix(e.str("msg"), "reload refused") && strings.Contains(e.str("error"), want) {
				n++
			}
		}
		return n == 2
	})
	st, _ := getStatus(c, adminAddr)
	if r := st.LastReload; r == nil || r.OK || !strings.Contains(r.Error, want) {
		t.Errorf("last_reload %+v, want ok false naming %s", r, want)
	}
	if got := st.addresses(); !slices.Equal(got, []string{b1}) {
		t.Errorf("backends after a refused reload: %v, want [%s]", got, b1)
	}
	if d := st.Pools[0].DeregistrationDelaySeconds; d != 300 {
		t.Errorf("deregistration delay %vs after a refused reload, want 300s", d)
	}
	if code, _, backend, err := httpGet(c, "http://"+lbAddr+"/"); err != nil || code != 200 || backend != "b1" {
		t.Errorf("the listener at its old address: %d %q %v", code, backend, err)
	}
	if _, _, _, err := httpGet(c, "http://"+movedAddr+"/"); err == nil {
		t.Errorf("something answers at the new address %s", movedAddr)
	}
}
