package main

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// exchange sends req on c and reads one answer's status line, headers and
// body (by Content-Length).
func exchange(t *testing.T, c net.Conn, br *bufio.Reader, req string) (status string, body string) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	status, err := br.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
		if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
			for _, ch := range strings.TrimSpace(v) {
				n = n*10 + int(ch-'0')
			}
		}
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(br, b); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(status), string(b)
}

// closedByPeer reports whether the next read on c sees the end.
func closedByPeer(c net.Conn, br *bufio.Reader) bool {
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := br.ReadByte()
	return err == io.EOF
}

func TestBackendsAnswerCountAndKeepAlive(t *testing.T) {
	tests := []struct {
		name    string
		perProc int
		procs   int
	}{
		{"in this process", 100, 1},
		{"over helper processes", 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := startBackends(3, tt.perProc)
			if err != nil {
				t.Fatal(err)
			}
			defer b.stop()
			if b.procs() != tt.procs || len(b.addrs) != 3 {
				t.Fatalf("%d processes, %d addresses; want %d, 3", b.procs(), len(b.addrs), tt.procs)
			}
			testBackends(t, b)
		})
	}
}

// testBackends sends probes and other requests to three backends and
// checks the answers and what the probe log saw.
func testBackends(t *testing.T, b *backends) {
	log := b.reset()

	// HTTP/1.1 kept alive: two probes on one connection to backend 0.
	c0, err := net.Dial("tcp", b.addrs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c0.Close()
	br0 := bufio.NewReader(c0)
	for range 2 {
		if st, body := exchange(t, c0, br0, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"); st != "HTTP/1.1 200 OK" || body != "ok" {
			t.Fatalf("got %q %q", st, body)
		}
	}
	// A request that is not a probe: 404, not counted as one.
	if st, _ := exchange(t, c0, br0, "GET /other HTTP/1.1\r\n\r\n"); st != "HTTP/1.1 404 Not Found" {
		t.Fatalf("got %q", st)
	}

	// lb's probe (HTTP/1.1, Connection: close) and HAProxy's (HTTP/1.0)
	// to backend 2: answered, then closed by the backend.
	for _, req := range []string{
		"GET /readyz HTTP/1.1\r\nHost: x\r\nUser-Agent: lb-healthcheck\r\nConnection: close\r\n\r\n",
		"GET /readyz HTTP/1.0\r\n\r\n",
	} {
		c, err := net.Dial("tcp", b.addrs[2])
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		if st, body := exchange(t, c, br, req); st != "HTTP/1.1 200 OK" || body != "ok" {
			t.Fatalf("%q: got %q %q", req, st, body)
		}
		if !closedByPeer(c, br) {
			t.Errorf("%q: the connection stayed open", req)
		}
		c.Close()
	}

	// A helper's records arrive within its flush period.
	deadline := time.Now().Add(5 * time.Second)
	for (log.counts[0].Load() < 2 || log.counts[2].Load() < 2 || log.other.Load() < 1) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := log.counts[0].Load(); got != 2 {
		t.Errorf("backend 0: %d probes, want 2", got)
	}
	if got := log.counts[2].Load(); got != 2 {
		t.Errorf("backend 2: %d probes, want 2", got)
	}
	if got := log.minCount(); got != 0 {
		t.Errorf("minCount = %d, want 0 (backend 1 got nothing)", got)
	}
	if got := log.probed(2); got != 2 {
		t.Errorf("probed(2) = %d, want 2", got)
	}
	if got := log.other.Load(); got != 1 {
		t.Errorf("other requests = %d, want 1", got)
	}
	arr := log.snapshot()
	if len(arr) != 4 {
		t.Fatalf("%d arrivals, want 4", len(arr))
	}
	for _, a := range arr {
		if a.At < 0 || a.At > time.Minute || (a.Backend != 0 && a.Backend != 2) {
			t.Errorf("arrival %+v", a)
		}
	}
	if n := len(b.reset().snapshot()); n != 0 {
		t.Errorf("a new log holds %d arrivals", n)
	}
}

func TestBackendsStopClosesKeptConnections(t *testing.T) {
	b, err := startBackends(1, 1)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", b.addrs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	exchange(t, c, br, "GET /readyz HTTP/1.1\r\n\r\n")
	done := make(chan struct{})
	go func() { b.stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("stop did not return with a kept-alive connection open")
	}
	if !closedByPeer(c, br) {
		t.Error("the kept-alive connection stayed open after stop")
	}
}

func TestRecordRoundTrip(t *testing.T) {
	tests := []struct {
		i     int
		at    time.Time
		probe bool
	}{
		{0, time.Unix(0, 1), true},
		{9999, time.Unix(1_800_000_000, 123456789), false},
		{1 << 20, time.Unix(1_700_000_000, 0), true},
	}
	for _, tt := range tests {
		var rec [recordSize]byte
		encodeRecord(rec[:], tt.i, tt.at, tt.probe)
		i, at, probe := decodeRecord(rec[:])
		if i != tt.i || !at.Equal(tt.at) || probe != tt.probe {
			t.Errorf("(%d, %v, %v) came back as (%d, %v, %v)", tt.i, tt.at, tt.probe, i, at, probe)
		}
	}
}
