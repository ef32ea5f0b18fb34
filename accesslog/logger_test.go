package accesslog

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the writer goroutine and the
// test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := strings.TrimSuffix(l.b.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// waitFor polls cond until it holds or 10s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func closeLogger(t *testing.T, l *Logger) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestLoggerWritesEveryRecord: records logged are written once each, in
// order, and Close writes what is still queued.
func TestLoggerWritesEveryRecord(t *testing.T) {
	var out lockedBuffer
	l, err := New(Options{Writer: &out})
	if err != nil {
		t.Fatal(err)
	}
	r := sampleRecord()
	for i := range 500 {
		r.Status = 200 + i%5
		l.Log(&r)
	}
	closeLogger(t, l)
	lines := out.lines()
	if len(lines) != 500 {
		t.Fatalf("%d lines, want 500", len(lines))
	}
	for i, line := range lines {
		var m struct{ Status int }
		if err := json.Unmarshal([]byte(line), &m); err != nil || m.Status != 200+i%5 {
			t.Fatalf("line %d: %v %q", i, err, line)
		}
	}
	if st := l.Stats(); st.Written != 500 || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
	l.Log(&r) // after Close: dropped, never written
	if st := l.Stats(); st.Dropped != 1 {
		t.Errorf("after close: %+v", st)
	}
}

// blockingWriter blocks every Write until release is closed.
type blockingWriter struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
	out     lockedBuffer
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.entered) })
	<-w.release
	return w.out.Write(p)
}

// TestBlockedWriterCostsNothing: with the writer stuck for 5 s, Log
// returns at once every time; what does not fit the queue is dropped and
// counted, and the rest is written once the writer moves again.
func TestBlockedWriterCostsNothing(t *testing.T) {
	w := &blockingWriter{entered: make(chan struct{}), release: make(chan struct{})}
	l, err := New(Options{Writer: w, Buffer: 64})
	if err != nil {
		t.Fatal(err)
	}
	r := sampleRecord()
	l.Log(&r)
	<-w.entered // the writer is now stuck in Write
	timer := time.AfterFunc(5*time.Second, func() { close(w.release) })
	defer timer.Stop()
	var slowest time.Duration
	for range 10000 {
		start := time.Now()
		l.Log(&r)
		slowest = max(slowest, time.Since(start))
	}
	st := l.Stats()
	if st.Dropped < 10000-64 {
		t.Errorf("dropped %d of 10000 with 64 places", st.Dropped)
	}
	// Not a speed assertion: only that no call waited for the writer.
	if slowest >= time.Second {
		t.Errorf("a Log call took %v while the writer was blocked", slowest)
	}
	t.Logf("slowest Log with the writer blocked: %v; dropped %d", slowest, st.Dropped)
	closeLogger(t, l)
	if got := l.Stats().Written; got != 1+(10000-st.Dropped) {
		t.Errorf("written %d, want %d", got, 1+(10000-st.Dropped))
	}
}

// TestReopenAfterMove: after the file is moved away (as logrotate does),
// lines keep going to the moved file until Reopen, then to a new file at
// the path.
func TestReopenAfterMove(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	l, err := New(Options{Output: path, Format: FormatCombined})
	if err != nil {
		t.Fatal(err)
	}
	defer closeLogger(t, l)
	r := sampleRecord()
	l.Log(&r)
	waitFor(t, "first line", func() bool { return countLines(path) == 1 })
	moved := path + ".1"
	if err := os.Rename(path, moved); err != nil {
		t.Fatal(err)
	}
	l.Log(&r)
	waitFor(t, "second line in the moved file", func() bool { return countLines(moved) == 2 })
	l.Reopen()
	waitFor(t, "the new file", func() bool {
		l.Log(&r)
		return countLines(path) > 0
	})
	if n := countLines(moved); n < 2 {
		t.Errorf("moved file has %d lines", n)
	}
}

func countLines(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	for s := bufio.NewScanner(f); s.Scan(); {
		n++
	}
	return n
}

// TestSample2xx: Skip2xx leaves out that share of 2xx lines, spread
// evenly, and never a non-2xx one.
func TestSample2xx(t *testing.T) {
	tests := []struct {
		skip      float64
		want2xx   int
		wantOther int
	}{
		{0, 1000, 100},
		{0.9, 100, 100},
		{0.5, 500, 100},
		{1, 0, 100},
	}
	for _, tt := range tests {
		var out lockedBuffer
		l, err := New(Options{Writer: &out, Skip2xx: tt.skip, Buffer: 2000})
		if err != nil {
			t.Fatal(err)
		}
		r := sampleRecord()
		for i := range 1100 {
			r.Status = 200
			if i%11 == 10 {
				r.Status = 500
			}
			l.Log(&r)
		}
		closeLogger(t, l)
		n2xx, other := 0, 0
		for _, line := range out.lines() {
			if strings.Contains(line, `"status":200`) {
				n2xx++
			} else {
				other++
			}
		}
		if n2xx != tt.want2xx || other != tt.wantOther {
			t.Errorf("skip %v: %d 2xx and %d others, want %d and %d", tt.skip, n2xx, other, tt.want2xx, tt.wantOther)
		}
		if st := l.Stats(); st.Sampled != uint64(1000-tt.want2xx) {
			t.Errorf("skip %v: sampled out %d", tt.skip, st.Sampled)
		}
	}
}

// TestLogAllocs: once the slots are warm, Log allocates nothing.
func TestLogAllocs(t *testing.T) {
	l, err := New(Options{Writer: &lockedBuffer{}, Buffer: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer closeLogger(t, l)
	r := sampleRecord()
	for range 100 {
		l.Log(&r)
	}
	if n := testing.AllocsPerRun(1000, func() { l.Log(&r) }); n != 0 {
		t.Errorf("Log: %v allocs", n)
	}
}

// TestNewRefusesBadOutput: a file that cannot be opened fails New.
func TestNewRefusesBadOutput(t *testing.T) {
	if _, err := New(Options{Output: filepath.Join(t.TempDir(), "missing", "access.log")}); err == nil {
		t.Fatal("New opened a file in a missing directory")
	}
}

func BenchmarkLog(b *testing.B) {
	l, err := New(Options{Writer: discard{}, Buffer: 4096})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close(context.Background())
	r := sampleRecord()
	b.ReportAllocs()
	for b.Loop() {
		l.Log(&r)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
