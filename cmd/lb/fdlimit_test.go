package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fdLimit is the RLIMIT_NOFILE the lb runs under in
// TestOutOfFileDescriptorsEndToEnd: far fewer than floodConns.
const (
	fdLimit    = 64
	floodConns = 150
	// servedFirst of the flood's connections are opened one at a time
	// before the rest, each answered 200 and kept open.
	servedFirst = 5
)

// TestOutOfFileDescriptorsEndToEnd runs the built binary under a low
// file-descriptor limit (soft and hard, so Go cannot raise it) and opens
// more client connections than it can hold, each sending one keep-alive
// request. Every client must get an answer (200 while descriptors last, a
// 503 once they are gone) or see its connection closed, never hang; the
// lb must stay up and log that it ran out of descriptors. Its own
// outbound connections (health checks, backend dials) may fail meanwhile.
// Once the clients go, it must serve 200 again with both backends
// healthy, and /healthz must answer.
func TestOutOfFileDescriptorsEndToEnd(t *testing.T) {
	addrs := freePorts(t, 4)
	lbAddr, adminAddr, backends := addrs[0], addrs[1], addrs[2:]
	for i, a := range backends {
		startBackend(t, a, fmt.Sprintf("b%d", i+1))
	}
	path := filepath.Join(t.TempDir(), "lb.hcl")
	// The default idle_conn_timeout (10s): a backend connection may take
	// the descriptor the listener frees to refuse a client (see README,
	// Resource safety), and the listener then closes idle backend
	// connections to get descriptors back, rather than leave the clients
	// in the backlog until those connections time out.
	writeFile(t, path, lbConfig(adminAddr, lbAddr, "", "", backends...))
	args := []string{"-config", path, "-log-format", "json"}
	// dash's ulimit -n sets the soft and the hard limit; exec keeps the pid.
	script := fmt.Sprintf(`ulimit -n %d && exec "$0" "$@"`, fdLimit)
	lb := startCmd(t, exec.Command("sh", append([]string{"-c", script, lbBinary}, args...)...), args)
	pid := lb.cmd.Process.Pid
	eventually(t, 10*time.Second, "sh execs the lb", func() bool {
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		return err == nil && exe == lbBinary
	})
	soft, hard := openFilesLimit(t, pid)
	if soft != fdLimit || hard != fdLimit {
		t.Fatalf("the lb runs with RLIMIT_NOFILE %d/%d (soft/hard), want %d/%d: "+
			"the shell's ulimit -n did not apply", soft, hard, fdLimit, fdLimit)
	}

	c := client(t, 5*time.Second)
	waitHealthy(t, c, adminAddr, backends...)
	c.CloseIdleConnections() // hold no descriptor of the lb's from here on
	if code, body, err := rawGet(lbAddr, "/", 10*time.Second); err != nil || code != 200 {
		t.Fatalf("before the flood: %d %q %v", code, body, err)
	}
	before := openFiles(t, pid)
	t.Logf("lb holds %d of its %d descriptors before the flood", before, fdLimit)

	// The flood: every connection sends one keep-alive request and
	// reads one answer, then stays open (holding its descriptor in the
	// lb if it was accepted) until all are in. The first servedFirst
	// connect one after another while descriptors are plentiful, so
	// that "served while descriptors last" does not depend on how the
	// scheduler orders the rest, which come all at once: under a
	// concurrent burst the accept loop may take every descriptor before
	// any handler dials a backend, and then every one is refused.
	flood := make([]net.Conn, floodConns)
	outcomes := make([]string, floodConns)
	took := make([]time.Duration, floodConns)
	t.Cleanup(func() { closeAll(flood) })
	started := time.Now()
	open := func(i int) {
		conn, err := net.DialTimeout("tcp", lbAddr, 10*time.Second)
		if err != nil {
			outcomes[i] = "dial failed: " + err.Error()
			return
		}
		flood[i] = conn
		sent := time.Now()
		outcomes[i] = exchange(conn, "GET / HTTP/1.1\r\nHost: lb\r\n\r\n", 15*time.Second)
		took[i] = time.Since(sent)
	}
	for i := range servedFirst {
		if open(i); outcomes[i] != "200" {
			t.Fatalf("connection %d of %d, descriptors to spare: %s", i+1, servedFirst, outcomes[i])
		}
	}
	var wg sync.WaitGroup
	for i := servedFirst; i < floodConns; i++ {
		wg.Go(func() { open(i) })
	}
	wg.Wait()
	tally := map[string]int{}
	slowest := map[string]time.Duration{}
	for i, o := range outcomes {
		tally[o]++
		slowest[o] = max(slowest[o], took[i])
	}
	t.Logf("%d connections, all answered within %s:", floodConns, time.Since(started).Round(time.Millisecond))
	for o, n := range tally {
		t.Logf("  %3d × %s (slowest %s)", n, o, slowest[o].Round(time.Millisecond))
	}
	for o, n := range tally {
		if o == "hung" || strings.HasPrefix(o, "dial failed") || strings.HasPrefix(o, "unexpected") {
			t.Errorf("%d connections: %s", n, o)
		}
	}
	if tally[refusedOutcome] == 0 {
		t.Errorf("no connection was refused with %s, though the lb cannot hold %d", refusedOutcome, floodConns)
	}
	select {
	case <-lb.done:
		t.Fatalf("the lb exited during the flood: %v", lb.err)
	default:
	}
	t.Logf("lb holds %d descriptors with the flood open", openFiles(t, pid))

	// With the descriptors still taken: one more client, to the listener
	// and to the admin, is answered (or closed) promptly.
	for _, a := range []string{lbAddr + " /", adminAddr + " /healthz"} {
		addr, p, _ := strings.Cut(a, " ")
		code, body, err := rawGet(addr, p, 10*time.Second)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("GET %s during the flood hung: %v", a, err)
		}
		t.Logf("GET %s during the flood: %d %q %v", a, code, body, err)
	}

	closeAll(flood)
	released := time.Now()
	eventually(t, 15*time.Second, "the listener serves 200 again", func() bool {
		code, _, err := rawGet(lbAddr, "/", 5*time.Second)
		return err == nil && code == 200
	})
	served := time.Since(released)
	eventually(t, 15*time.Second, "/healthz answers 200 again", func() bool {
		code, _, err := rawGet(adminAddr, "/healthz", 5*time.Second)
		return err == nil && code == 200
	})
	waitHealthy(t, c, adminAddr, backends...)
	c.CloseIdleConnections()
	t.Logf("after closing the flood: 200 through the listener in %s, both backends healthy in %s",
		served.Round(time.Millisecond), time.Since(released).Round(time.Millisecond))

	select {
	case <-lb.done:
		t.Fatalf("the lb exited: %v", lb.err)
	default:
	}
	warned, ok := lb.findLog(func(e logEntry) bool {
		return e.str("level") == "warn" && strings.HasPrefix(e.str("msg"), "accept: out of file descriptors")
	})
	if !ok {
		t.Errorf("the lb did not log %q", "accept: out of file descriptors")
	} else {
		t.Logf("logged: %s listener=%s error=%s", warned.str("msg"), warned.str("listener"), warned.str("error"))
	}
	if n := refusals(t, c, adminAddr); n < uint64(tally[refusedOutcome]) {
		t.Errorf("/status counts %d too_many_connections refusals, the clients saw %d", n, tally[refusedOutcome])
	}
	c.CloseIdleConnections()
	eventually(t, 15*time.Second, "the lb's descriptors back to the count before the flood", func() bool {
		return openFiles(t, pid) <= before+4
	})
}

// refusedOutcome is how exchange reports the lb's answer to a connection
// it cannot hold.
const refusedOutcome = `503 {"error":"too many connections"}`

// exchange writes req on conn and reads one answer within d. It returns
// "200" for a 200, the status and body for another answer, "closed" when
// the lb closed or reset the connection without one, "hung" when nothing
// came within d (the lb neither answered nor closed it).
func exchange(conn net.Conn, req string, d time.Duration) string {
	_ = conn.SetDeadline(time.Now().Add(d))
	defer conn.SetDeadline(time.Time{})
	if _, err := io.WriteString(conn, req); err != nil {
		return "closed"
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			return "hung"
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), isReset(err):
			return "closed"
		}
		return "unexpected: " + err.Error()
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return "unexpected body: " + err.Error()
	}
	if resp.StatusCode == 200 {
		return "200"
	}
	return fmt.Sprintf("%d %s", resp.StatusCode, body)
}

// isReset reports a connection reset by the peer.
func isReset(err error) bool {
	return strings.Contains(err.Error(), "connection reset by peer")
}

// rawGet sends one GET for path on a fresh connection to addr (closed
// after the answer) and returns status and body; the whole exchange
// must finish within d.
func rawGet(addr, path string, d time.Duration) (int, string, error) {
	conn, err := net.DialTimeout("tcp", addr, d)
	if err != nil {
		return 0, "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(d))
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: lb\r\nConnection: close\r\n\r\n", path); err != nil {
		return 0, "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// closeAll closes every non-nil connection (it may run twice).
func closeAll(conns []net.Conn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

// openFilesLimit reads the soft and hard "Max open files" of process pid.
func openFilesLimit(t *testing.T, pid int) (soft, hard int) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Max open files"); ok {
			if _, err := fmt.Sscan(rest, &soft, &hard); err != nil {
				t.Fatalf("parsing %q: %v", line, err)
			}
			return soft, hard
		}
	}
	t.Fatalf("no Max open files in /proc/%d/limits:\n%s", pid, b)
	return 0, 0
}

// openFiles counts the descriptors process pid holds.
func openFiles(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// refusals reads the too_many_connections count of the listener from
// the admin /status.
func refusals(t *testing.T, c *http.Client, admin string) uint64 {
	t.Helper()
	resp, err := c.Get("http://" + admin + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Listeners []struct {
			Rejections map[string]uint64 `json:"rejections"`
		} `json:"listeners"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || len(st.Listeners) != 1 {
		t.Fatalf("/status listeners: %v %+v", err, st)
	}
	return st.Listeners[0].Rejections["too_many_connections"]
}
