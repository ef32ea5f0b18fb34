package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lbtrust/lb/config"
)

// What lb's shutdown takes after shutdown_delay + grace_period at most,
// as server.LB.Shutdown runs it: the admin listener closes last within 1s,
// then each access log gets 5s to flush (server/accesslog.go,
// accessLogCloseTimeout). A stop timeout must also leave minStopMargin for
// the checkers to stop and for a loaded host.
const (
	shutdownTail  = 1*time.Second + 5*time.Second
	minStopMargin = 5 * time.Second
)

// stopBudget is the least time a service manager must allow between
// SIGTERM and SIGKILL for a configuration with this shutdown delay and
// grace period.
func stopBudget(delay, grace time.Duration) time.Duration {
	return delay + grace + shutdownTail + minStopMargin
}

// unitFile is a systemd unit: section, then key, then every value given
// (a key may repeat, such as ExecReload).
type unitFile map[string]map[string][]string

// readUnit parses a unit file's sections and assignments; comments and
// blank lines are skipped (the example uses no line continuations).
func readUnit(t *testing.T, path string) unitFile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unitFile{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" || strings.HasSuffix(line, `\`) {
				t.Fatalf("%s:%d: not a key=value line in a section: %q", path, n, line)
			}
			u[section][strings.TrimSpace(k)] = append(u[section][strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

// one returns the single value of key in section, failing if it is not
// given exactly once.
func (u unitFile) one(t *testing.T, section, key string) string {
	t.Helper()
	v := u[section][key]
	if len(v) != 1 {
		t.Fatalf("[%s] %s: %d values %q, want one", section, key, len(v), v)
	}
	return v[0]
}

// systemdSeconds parses a systemd time span as the example writes it:
// a bare number of seconds or a Go-style duration such as "45s" or "1m30s".
func systemdSeconds(t *testing.T, s string) time.Duration {
	t.Helper()
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("time span %q: write it as 45s or 1m30s", s)
	}
	return d
}

// TestSystemdUnitExample holds examples/lb.service to what the README
// promises: Type=notify (lb speaks sd_notify), ExecReload checks the file
// the service runs and then sends SIGHUP, TimeoutStopSec covers the
// default shutdown (shutdown_delay + grace_period + the tail), enough
// descriptors for the default connection cap, and the hardening.
func TestSystemdUnitExample(t *testing.T) {
	u := readUnit(t, filepath.Join("..", "..", "examples", "lb.service"))
	svc := "Service"
	start := strings.Fields(u.one(t, svc, "ExecStart"))
	if len(start) < 3 || filepath.Base(start[0]) != "lb" || start[1] != "-config" {
		t.Fatalf("ExecStart %q: want lb -config FILE ...", start)
	}
	cfgPath := start[2]
	reload := u[svc]["ExecReload"]
	if len(reload) != 2 || reload[0] != start[0]+" validate -config "+cfgPath || reload[1] != "/bin/kill -HUP $MAINPID" {
		t.Errorf("ExecReload %q: want %q then %q", reload, start[0]+" validate -config "+cfgPath, "/bin/kill -HUP $MAINPID")
	}
	for key, want := range map[string]string{
		"Type": "notify", "NotifyAccess": "main", "KillSignal": "SIGTERM",
		"DynamicUser": "yes", "AmbientCapabilities": "CAP_NET_BIND_SERVICE",
		"CapabilityBoundingSet": "CAP_NET_BIND_SERVICE", "NoNewPrivileges": "yes",
		"ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
		"ConfigurationDirectory": "lb", "LogsDirectory": "lb",
	} {
		if got := u.one(t, svc, key); got != want {
			t.Errorf("%s=%s, want %s", key, got, want)
		}
	}
	stop := systemdSeconds(t, u.one(t, svc, "TimeoutStopSec"))
	if need := stopBudget(config.DefaultShutdownDelay, config.DefaultGracePeriod); stop < need {
		t.Errorf("TimeoutStopSec=%s: the default shutdown needs %s (shutdown_delay %s + grace_period %s + %s tail + %s margin)",
			stop, need, config.DefaultShutdownDelay, config.DefaultGracePeriod, shutdownTail, minStopMargin)
	}
	nofile, err := strconv.Atoi(u.one(t, svc, "LimitNOFILE"))
	if err != nil || nofile < 2*config.DefaultMaxConnections+1024 {
		t.Errorf("LimitNOFILE=%d (%v): want at least 2 x max_connections (%d) + 1024", nofile, err, config.DefaultMaxConnections)
	}
}

// TestSystemdUnitVerifies runs systemd-analyze verify on the example
// (ExecStart pointed at the built binary, since verify checks that it
// exists), failing on any complaint about the unit, and its offline
// security review, failing above an exposure of 3.0 ("OK" is below 4).
// It skips where systemd-analyze is not installed (Debian's systemd
// package brings it).
func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed (Debian package systemd): examples/lb.service not verified")
	}
	src, err := os.ReadFile(filepath.Join("..", "..", "examples", "lb.service"))
	if err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(t.TempDir(), "lb.service")
	writeFile(t, unit, strings.ReplaceAll(string(src), "/usr/local/bin/lb", lbBinary))

	out, err := exec.Command(analyze, "verify", unit).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "lb.service") {
			t.Errorf("systemd-analyze verify: %s", l)
		}
	}

	out, err = exec.Command(analyze, "security", "--offline=yes", "--threshold=30", unit).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok && strings.Contains(string(out), "offline") && !strings.Contains(string(out), "Overall") {
		t.Logf("systemd-analyze security --offline not supported here (systemd < 250): %s", ee)
		return
	}
	if err != nil {
		t.Errorf("systemd-analyze security: %v (exposure above 3.0?)\n%s", err, lastLines(string(out), 3))
	}
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
