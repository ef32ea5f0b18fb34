package fleet

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/lbtrust/lb/bench/backend"
)

// TestMain turns the test binary into a backend when the fleet runs it.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "backend" {
		os.Exit(backend.Main(os.Args[2:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func tag(c *http.Client, addr string) (int, string) {
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get(backend.HeaderBackend)
}

func TestFleet(t *testing.T) {
	f, err := Start(Spec{Command: []string{os.Args[0], "backend"}, Args: []string{"-drain-period", "200ms"}, Ports: []int{0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	if f.Len() != 2 {
		t.Fatalf("len %d", f.Len())
	}
	for i := 0; i < 2; i++ {
		if code, name := tag(c, f.Addr(i)); code != 200 || name != Name(i) {
			t.Errorf("backend %d answered %d tagged %q", i, code, name)
		}
	}

	addr, pid := f.Addr(0), f.Pid(0)
	if err := f.Signal(0, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !f.WaitExit(0, 10*time.Second) {
		t.Fatal("killed backend did not exit")
	}
	if code, _ := tag(c, addr); code != 0 {
		t.Errorf("killed backend answered %d", code)
	}
	if err := f.Restart(0); err != nil {
		t.Fatal(err)
	}
	if f.Addr(0) != addr || f.Pid(0) == pid {
		t.Errorf("restart: addr %s pid %d, want %s and a new pid", f.Addr(0), f.Pid(0), addr)
	}
	c.CloseIdleConnections()
	if code, name := tag(c, addr); code != 200 || name != "b1" {
		t.Errorf("restarted backend answered %d tagged %q", code, name)
	}

	if err := f.SetFault(context.Background(), 1, backend.ModeErrors); err != nil {
		t.Fatal(err)
	}
	if code, _ := tag(c, f.Addr(1)); code != 500 {
		t.Errorf("errors mode answered %d", code)
	}

	// SIGTERM drains (200 ms) and exits by itself.
	if err := f.Signal(1, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !f.WaitExit(1, 10*time.Second) {
		t.Error("terminated backend did not exit after its drain period")
	}
}

func TestStartFailsOnBusyPort(t *testing.T) {
	f, err := Start(Spec{Command: []string{os.Args[0], "backend"}, Ports: []int{0}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, p, _ := net.SplitHostPort(f.Addr(0))
	port, _ := strconv.Atoi(p)
	if _, err := Start(Spec{Command: []string{os.Args[0], "backend"}, Ports: []int{port}}); err == nil {
		t.Error("a second backend on a busy port started")
	}
}
