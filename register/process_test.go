package register

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/lbtrust/lb/discovery/etcdvalue"
	"github.com/lbtrust/lb/internal/etcdtest"
	"github.com/lbtrust/lb/internal/syncbuf"
)

// wait bounds what should take well under a second, or one TTL: the
// machine is small and shared.
const wait = 30 * time.Second

// proc is a running `lb register`; it is killed at cleanup if still
// running, and its output is shown when the test failed.
type proc struct {
	cmd  *exec.Cmd
	out  *syncbuf.Buffer
	done chan struct{}
}

func startRegister(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(lbBinary, append([]string{"register"}, args...)...), out: &syncbuf.Buffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if strings.Contains(p.out.String(), "WARNING: DATA RACE") {
			t.Errorf("data race in lb register %v", args)
		}
		if t.Failed() {
			t.Logf("output of lb register %v:\n%s", args, p.out.String())
		}
	})
	return p
}

// exit waits for the process to end and returns its exit code.
func (p *proc) exit(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(wait):
		t.Fatalf("lb register did not exit within %s", wait)
		return -1
	}
}

// running reports whether the process has not exited.
func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// eventually polls cond every 20 ms until it holds or wait passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true within %s", what, wait)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lookup returns key's value and lease, "" when there is no key.
func lookup(t *testing.T, cli *clientv3.Client, key string) (string, clientv3.LeaseID) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	r, err := cli.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Kvs) == 0 {
		return "", 0
	}
	return string(r.Kvs[0].Value), clientv3.LeaseID(r.Kvs[0].Lease)
}

// waitKey waits until key holds want ("" for: no key) and returns its
// lease.
func waitKey(t *testing.T, cli *clientv3.Client, key, want string) clientv3.LeaseID {
	t.Helper()
	var lease clientv3.LeaseID
	eventually(t, "key "+key+" = "+want, func() bool {
		var v string
		v, lease = lookup(t, cli, key)
		return v == want
	})
	return lease
}

// leaseGone reports whether etcd no longer knows lease.
func leaseGone(t *testing.T, cli *clientv3.Client, lease clientv3.LeaseID) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	r, err := cli.TimeToLive(ctx, lease)
	if err != nil {
		t.Fatal(err)
	}
	return r.TTL == -1
}

// readiness is a backend's readiness endpoint whose answer the test sets.
type readiness struct {
	srv    *httptest.Server
	status atomic.Int32
	hits   atomic.Int64
	// hang is how many of the next requests get no answer for a second.
	hang atomic.Int32
}

func newReadiness(t *testing.T) *readiness {
	r := &readiness{}
	r.status.Store(http.StatusOK)
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		if r.hang.Add(-1) >= 0 {
			select {
			case <-time.After(time.Second):
			case <-req.Context().Done():
			}
			return
		}
		r.hang.Store(0)
		if req.URL.Path != "/readyz" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(int(r.status.Load()))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

const (
	prefix = "/lb/pools/web/"
	addr   = "10.0.0.5:8080"
	key    = prefix + addr
)

func TestRegisterPutsTheKeyUnderALeaseAndSIGTERMDeletesIt(t *testing.T) {
	srv := etcdtest.Start(t)
	cli := srv.Client()
	p := startRegister(t, "-etcd", srv.Addr(), "-prefix", prefix, "-address", addr, "-weight", "2", "-ttl", "3s")
	lease := waitKey(t, cli, key, string(etcdvalue.Encode(addr, 2)))
	if lease == 0 {
		t.Fatal("the key has no lease")
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	ttl, err := cli.TimeToLive(ctx, lease)
	if err != nil {
		t.Fatal(err)
	}
	if ttl.GrantedTTL != 3 {
		t.Fatalf("lease granted for %ds, want 3", ttl.GrantedTTL)
	}
	// Kept alive: still there after twice the TTL.
	time.Sleep(6 * time.Second)
	if v, l := lookup(t, cli, key); v == "" || l != lease {
		t.Fatalf("after 2 TTLs: value %q lease %x, want the key under lease %x", v, l, lease)
	}

	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.exit(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0", code)
	}
	// Gone at once, not after the TTL: the lease was revoked.
	if v, _ := lookup(t, cli, key); v != "" {
		t.Fatalf("key still %q after lb register exited", v)
	}
	if !leaseGone(t, cli, lease) {
		t.Fatal("lease not revoked")
	}
}

func TestAFailingCheckDeletesTheKeyAndAPassingOneRegistersAgain(t *testing.T) {
	srv := etcdtest.Start(t)
	cli := srv.Client()
	ready := newReadiness(t)
	startRegister(t, "-etcd", srv.Addr(), "-prefix", prefix, "-address", addr, "-ttl", "3s",
		"-check", ready.srv.URL+"/readyz", "-check-interval", "200ms")
	first := waitKey(t, cli, key, string(etcdvalue.Encode(addr, 1)))

	ready.status.Store(http.StatusServiceUnavailable)
	waitKey(t, cli, key, "")
	if !leaseGone(t, cli, first) {
		t.Fatal("lease not revoked when the check failed")
	}

	ready.status.Store(http.StatusNoContent) // any 2xx passes
	second := waitKey(t, cli, key, string(etcdvalue.Encode(addr, 1)))
	if second == first {
		t.Fatal("registered again under the revoked lease")
	}
}

// TestUnansweredChecksDeleteTheKeyOnlyAfterThreeInARow: two checks that
// time out keep the registration (same lease); the third in a row deletes
// the key, and the next passing check registers again.
func TestUnansweredChecksDeleteTheKeyOnlyAfterThreeInARow(t *testing.T) {
	srv := etcdtest.Start(t)
	cli := srv.Client()
	ready := newReadiness(t)
	// A 1s interval: each check may take 500ms before it counts as
	// unanswered, so only the hung ones do on a loaded machine.
	startRegister(t, "-etcd", srv.Addr(), "-prefix", prefix, "-address", addr, "-ttl", "3s",
		"-check", ready.srv.URL+"/readyz", "-check-interval", "1s", "-check-unanswered", "3")
	first := waitKey(t, cli, key, string(etcdvalue.Encode(addr, 1)))

	before := ready.hits.Load()
	ready.hang.Store(2)
	eventually(t, "two hung checks and a passing one", func() bool { return ready.hits.Load() >= before+3 })
	if v, lease := lookup(t, cli, key); v == "" || lease != first {
		t.Fatalf("after two unanswered checks: key %q under lease %x; want it kept under %x", v, lease, first)
	}

	// The third deletes the key (revokes its lease); the next check,
	// at once, passes and registers again under a new lease.
	ready.hang.Store(3)
	eventually(t, "registered again under a new lease", func() bool {
		v, lease := lookup(t, cli, key)
		return v != "" && lease != first
	})
	if !leaseGone(t, cli, first) {
		t.Fatal("first lease not revoked after three unanswered checks")
	}
}

func TestACheckFailingFromTheStartRegistersNothing(t *testing.T) {
	srv := etcdtest.Start(t)
	cli := srv.Client()
	ready := newReadiness(t)
	ready.status.Store(http.StatusInternalServerError)
	startRegister(t, "-etcd", srv.Addr(), "-prefix", prefix, "-address", addr, "-ttl", "2s",
		"-check", ready.srv.URL+"/readyz", "-check-interval", "100ms")
	eventually(t, "several checks", func() bool { return ready.hits.Load() >= 5 })
	if v, _ := lookup(t, cli, key); v != "" {
		t.Fatalf("registered %q while the check fails", v)
	}
	ready.status.Store(http.StatusOK)
	waitKey(t, cli, key, string(etcdvalue.Encode(addr, 1)))
}

func TestSIGKILLLeavesTheKeyUntilTheLeaseExpires(t *testing.T) {
	srv := etcdtest.Start(t)
	cli := srv.Client()
	p := startRegister(t, "-etcd", srv.Addr(), "-prefix", prefix, "-address", addr, "-ttl", "2s")
	lease := waitKey(t, cli, key, string(etcdvalue.Encode(addr, 1)))
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	// Nobody revoked it: the key goes when the lease expires.
	waitKey(t, cli, key, "")
	if !leaseGone(t, cli, lease) {
		t.Fatal("lease still there after its key expired")
	}
}

func TestAnUnreachableEtcdIsRetriedUntilItComes(t *testing.T) {
	srv := etcdtest.Start(t)
	cli := srv.Client()
	srv.Stop()
	p := startRegister(t, "-etcd", srv.Addr(), "-prefix", prefix, "-address", addr, "-ttl", "2s")
	eventually(t, "a retry logged", func() bool { return strings.Contains(p.out.String(), "retrying") })
	start := time.Now()
	srv.Restart()
	waitKey(t, cli, key, string(etcdvalue.Encode(addr, 1)))
	t.Logf("registered %s after etcd came up", time.Since(start))

	// etcd goes away for longer than the TTL and comes back: the key is
	// there again (the old lease, or a new one once the old was lost).
	srv.Stop()
	time.Sleep(5 * time.Second)
	if !p.running() {
		t.Fatal("lb register exited while etcd was down")
	}
	start = time.Now()
	srv.Restart()
	waitKey(t, cli, key, string(etcdvalue.Encode(addr, 1)))
	t.Logf("registered %s after etcd came back", time.Since(start))
	time.Sleep(4 * time.Second) // past any old lease's TTL
	waitKey(t, cli, key, string(etcdvalue.Encode(addr, 1)))
}

func TestBadFlagsExit2WithAMessage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"nothing", nil, "no etcd endpoints"},
		{"host name", []string{"-etcd", "127.0.0.1:2379", "-prefix", "/p/", "-address", "web:80"}, "want IP:port"},
		{"weight 0", []string{"-etcd", "127.0.0.1:2379", "-prefix", "/p/", "-address", addr, "-weight", "0"}, "-weight 0: must be at least 1"},
		{"ttl 1s", []string{"-etcd", "127.0.0.1:2379", "-prefix", "/p/", "-address", addr, "-ttl", "1s"}, "at least 2s"},
		{"bad check", []string{"-etcd", "127.0.0.1:2379", "-prefix", "/p/", "-address", addr, "-check", "127.0.0.1:80/readyz"}, "http:// or https://"},
		{"unknown flag", []string{"-bogus"}, "flag provided but not defined"},
		{"extra argument", []string{"-etcd", "127.0.0.1:2379", "-prefix", "/p/", "-address", addr, "extra"}, "unexpected arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startRegister(t, tc.args...)
			if code := p.exit(t); code != 2 {
				t.Fatalf("exit code %d, want 2", code)
			}
			if out := p.out.String(); !strings.Contains(out, tc.msg) {
				t.Fatalf("output %q, want %q in it", out, tc.msg)
			}
		})
	}
}
