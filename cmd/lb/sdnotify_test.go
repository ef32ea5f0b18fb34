package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// notifySocket is a service manager's notification socket, as systemd
// opens it: a unixgram socket whose datagrams are collected in order.
type notifySocket struct {
	path string
	conn *net.UnixConn
	msgs chan string
	done chan struct{}
}

// listenNotify opens a notification socket at path (a file path, or an
// abstract name starting with "@"); it is closed at cleanup.
func listenNotify(t *testing.T, path string) *notifySocket {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	s := &notifySocket{path: path, conn: conn, msgs: make(chan string, 64), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			s.msgs <- string(buf[:n])
		}
	}()
	t.Cleanup(func() { conn.Close(); <-s.done })
	return s
}

// next returns the next datagram, failing the test if none comes within d.
func (s *notifySocket) next(t *testing.T, d time.Duration, waitingFor string) string {
	t.Helper()
	select {
	case m := <-s.msgs:
		return m
	case <-time.After(d):
		t.Fatalf("no notification within %s, waiting for %s", d, waitingFor)
		return ""
	}
}

// fields splits a notification into its assignments.
func fields(msg string) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(msg, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			out[k] = v
		}
	}
	return out
}

// monotonicMicros is CLOCK_MONOTONIC in microseconds, as MONOTONIC_USEC
// carries it.
func monotonicMicros(t *testing.T) int64 {
	t.Helper()
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		t.Fatal(err)
	}
	return ts.Nano() / 1000
}

// notifyPath returns a socket path in a fresh temporary directory, short
// enough for sun_path (108 bytes) even when $TMPDIR is long.
func notifyPath(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "notify.sock")
	if len(p) < 100 {
		return p
	}
	dir, err := os.MkdirTemp("/tmp", "lbsd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "n.sock")
}

// TestSDNotifyLifecycle runs the built lb the way systemd runs a
// Type=notify unit, with $NOTIFY_SOCKET naming a socket the test reads:
// the first datagram is READY=1 and by then /healthz and the traffic
// listener answer; a SIGHUP gives RELOADING=1 (with MONOTONIC_USEC) and
// then READY=1, the new file applied before it, so does POST /reload,
// and a refused file gives
// the same pair with a STATUS that says so; SIGTERM gives STOPPING=1 and
// the process exits 0.
func TestSDNotifyLifecycle(t *testing.T) {
	a := freePorts(t, 4)
	adminAddr, lbAddr, b1, b2 := a[0], a[1], a[2], a[3]
	sock := listenNotify(t, notifyPath(t))
	path := filepath.Join(t.TempDir(), "lb.hcl")
	writeFile(t, path, lbConfig(adminAddr, lbAddr, `  grace_period = "5s"`, "", b1))
	args := []string{"-config", path, "-log-format", "json"}
	cmd := exec.Command(lbBinary, args...)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock.path)
	p := startCmd(t, cmd, args)
	c := client(t, 5*time.Second)

	ready := fields(sock.next(t, 30*time.Second, "READY=1 at start"))
	if ready["READY"] != "1" || ready["STATUS"] == "" {
		t.Fatalf("first notification %v, want READY=1 with a STATUS", ready)
	}
	// No retry: READY=1 promises the listeners are bound.
	if code, _, _, err := httpGet(c, "http://"+adminAddr+"/healthz"); err != nil || code != 200 {
		t.Fatalf("/healthz right after READY=1: %d, %v", code, err)
	}
	if conn, err := net.DialTimeout("tcp", lbAddr, 5*time.Second); err != nil {
		t.Fatalf("traffic listener right after READY=1: %v", err)
	} else {
		conn.Close()
	}

	sighup := func() { p.signal(t, syscall.SIGHUP) }
	reload := func(what string, trigger func()) map[string]string {
		t.Helper()
		before := monotonicMicros(t)
		trigger()
		r := fields(sock.next(t, 30*time.Second, "RELOADING=1 after the trigger ("+what+")"))
		usec, err := strconv.ParseInt(r["MONOTONIC_USEC"], 10, 64)
		if r["RELOADING"] != "1" || err != nil || usec < before || usec > monotonicMicros(t) {
			t.Fatalf("%s: notification after the trigger %v, want RELOADING=1 with MONOTONIC_USEC in [%d, now]", what, r, before)
		}
		done := fields(sock.next(t, 30*time.Second, "READY=1 after the reload ("+what+")"))
		if done["READY"] != "1" {
			t.Fatalf("%s: notification after RELOADING=1 %v, want READY=1", what, done)
		}
		return done
	}

	writeFile(t, path, lbConfig(adminAddr, lbAddr, `  grace_period = "5s"`, "", b1, b2))
	st := reload("SIGHUP adds a backend", sighup)
	if !strings.HasPrefix(st["STATUS"], "reloaded ") {
		t.Errorf("STATUS after a good reload = %q", st["STATUS"])
	}
	// Applied before READY=1: no polling.
	if s, ok := getStatus(c, adminAddr); !ok || s.LastReload == nil || !s.LastReload.OK {
		t.Errorf("/status right after READY=1: last_reload %+v", s.LastReload)
	} else if _, ok := s.backend(b2); !ok {
		t.Errorf("backend %s not in /status right after READY=1: %v", b2, s.addresses())
	}

	writeFile(t, path, lbConfig(adminAddr, lbAddr, `  grace_period = "5s"`, "", b1))
	st = reload("POST /reload removes a backend", func() {
		if code, body, err := post(c, "http://"+adminAddr+"/reload"); err != nil || code != 200 {
			t.Fatalf("POST /reload: %d %s %v", code, body, err)
		}
	})
	if !strings.HasPrefix(st["STATUS"], "reloaded ") {
		t.Errorf("STATUS after POST /reload = %q", st["STATUS"])
	}

	writeFile(t, path, "pool {")
	st = reload("SIGHUP, broken file", sighup)
	if !strings.Contains(st["STATUS"], "reload refused") {
		t.Errorf("STATUS after a refused reload = %q, want it to say so", st["STATUS"])
	}
	if code, _, _, err := httpGet(c, "http://"+adminAddr+"/healthz"); err != nil || code != 200 {
		t.Fatalf("/healthz after a refused reload: %d, %v", code, err)
	}

	p.signal(t, syscall.SIGTERM)
	stop := fields(sock.next(t, 30*time.Second, "STOPPING=1 after SIGTERM"))
	if stop["STOPPING"] != "1" {
		t.Fatalf("notification after SIGTERM %v, want STOPPING=1", stop)
	}
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0", code)
	}
	select {
	case m := <-sock.msgs:
		t.Errorf("notification after STOPPING=1: %q", m)
	default:
	}
}

// TestSDNotifier: no socket is a no-op; an abstract socket ("@name")
// gets the lines as one datagram; a missing socket is an error, not a
// hang; STATUS text is folded onto one line and bounded.
func TestSDNotifier(t *testing.T) {
	if err := newSDNotifier("").notify(sdReady); err != nil {
		t.Errorf("no socket: %v", err)
	}
	abstract := fmt.Sprintf("@lb-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	sock := listenNotify(t, abstract)
	if err := newSDNotifier(abstract).notify(sdReady, sdStatus("a\nb")); err != nil {
		t.Fatal(err)
	}
	if m := sock.next(t, 10*time.Second, "READY=1"); m != "READY=1\nSTATUS=a b" {
		t.Errorf("datagram %q", m)
	}
	if err := newSDNotifier(filepath.Join(t.TempDir(), "none")).notify(sdReady); err == nil {
		t.Error("a socket that does not exist gave no error")
	}
	long := sdStatus(strings.Repeat("é", 500))
	if n := len([]rune(strings.TrimPrefix(long, "STATUS="))); n != maxStatusRunes || !strings.HasSuffix(long, "...") {
		t.Errorf("long STATUS kept %d characters: %q", n, long)
	}
}
