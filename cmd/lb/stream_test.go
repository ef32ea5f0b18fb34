package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lbtrust/lb/demo/stream"
	"github.com/lbtrust/lb/internal/procmem"
)

// The tests of this file prove that lb streams: a body goes through it
// piece by piece, both ways, without being held whole, and an event
// reaches the client when the backend flushes it. The memory tests run
// the lb built without -race (lbMeasured) in front of one `lb backend`
// of the same build, read the LB's peak RSS (VmHWM, from
// /proc/PID/status) and bound it. A proxy that buffers bodies passes any
// bound quickly: a sampler watches the LB's RSS every memSampleEvery and,
// once it passes memKillFactor × the test's bound, records it and kills
// the LB (a buffering LB would go on to hold gigabytes), which fails the
// test with the figure.

// memSampleEvery is how often the LB's memory is sampled during a
// transfer.
const memSampleEvery = 20 * time.Millisecond

// memKillFactor: an LB whose RSS passes this many times the test's bound
// is killed, so that a buffering proxy fails fast instead of taking the
// machine's memory.
const memKillFactor = 4

// streamRig is an lb (lbMeasured) in front of one demo backend
// (lbMeasured backend) with limits fit for multi-GiB transfers.
type streamRig struct {
	lb      *proc
	lbAddr  string
	backend string
	client  *http.Client
}

// startStreamRig starts the backend and the LB and waits until the
// backend is in rotation. The listener takes bodies up to 4 GiB and gives
// a request and an answer two minutes each, and the pool waits as long
// for a backend: only memory and timing can fail these tests, not a
// limit.
func startStreamRig(t *testing.T) *streamRig {
	t.Helper()
	a := freePorts(t, 3)
	admin, lbAddr, backend := a[0], a[1], a[2]
	startCmd(t, exec.Command(lbMeasured, "backend", "-listen", backend, "-name", "s1"), []string{"backend", backend})
	cfg := fmt.Sprintf(`admin {
  address = %q
}
listener "public" {
  address               = %q
  pool                  = "web"
  max_request_body_size = 4294967296
  read_timeout          = "120s"
  write_timeout         = "120s"
}
pool "web" {
  response_timeout = "120s"
  health_check {
    interval = %q
    timeout  = "200ms"
  }
  backend %q {}
}
`, admin, lbAddr, checkInterval.String(), backend)
	path := filepath.Join(t.TempDir(), "lb.hcl")
	writeFile(t, path, cfg)
	lb := startCmd(t, exec.Command(lbMeasured, "-config", path, "-log-format", "json"), []string{"measured lb", "-config", path})
	waitHealthy(t, client(t, 5*time.Second), admin, backend)
	return &streamRig{lb: lb, lbAddr: lbAddr, backend: backend, client: streamClient(t)}
}

// streamClient returns an HTTP client for large transfers: no
// compression, 64 KiB socket buffers in the transport, as many
// connections as asked for; no overall timeout (each test bounds its
// requests with a context). Its connections are closed at cleanup.
func streamClient(t *testing.T) *http.Client {
	tr := &http.Transport{
		DisableCompression:  true,
		MaxIdleConnsPerHost: 128,
		ReadBufferSize:      64 << 10,
		WriteBufferSize:     64 << 10,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func (r *streamRig) url(path string) string { return "http://" + r.lbAddr + path }

// memWatch samples the LB's memory during a transfer.
type memWatch struct {
	s     *procmem.Sampler
	pid   int
	bound int64
}

// watchMemory samples lb's memory until check. Past memKillFactor × bound
// it kills lb and calls cancel (to end the transfers).
func watchMemory(lb *proc, bound int64, cancel context.CancelFunc) *memWatch {
	pid := lb.cmd.Process.Pid
	s := procmem.Sample(func() (procmem.Usage, error) { return procmem.Read(pid) }, memSampleEvery, memKillFactor*bound, func(procmem.Usage) {
		lb.cmd.Process.Kill()
		cancel()
	})
	return &memWatch{s: s, pid: pid, bound: bound}
}

// check stops the sampling, logs the LB's peak and fails the test when it
// passed the bound. It reports whether the LB was killed for its memory
// (the transfer errors that follow are then only its consequence).
func (w *memWatch) check(t *testing.T, what string) (killed bool) {
	t.Helper()
	sum := w.s.Stop()
	if u, err := procmem.Read(w.pid); err == nil {
		sum.HWM = max(sum.HWM, u.HWM)
	}
	t.Logf("%s: LB VmHWM %s, sampled RSS peak %s over %d samples (bound %s)",
		what, procmem.MiB(sum.HWM), procmem.MiB(sum.PeakRSS), len(sum.Points), procmem.MiB(w.bound))
	switch {
	case sum.Over:
		t.Errorf("%s: the LB's RSS reached %s (VmHWM %s), past %d × the bound of %s, while the transfer ran: it holds what it forwards (killed to protect the machine)",
			what, procmem.MiB(sum.OverAt.RSS), procmem.MiB(sum.OverAt.HWM), memKillFactor, procmem.MiB(w.bound))
		return true
	case sum.HWM > w.bound:
		t.Errorf("%s: the LB's peak RSS (VmHWM) is %s, over the bound of %s", what, procmem.MiB(sum.HWM), procmem.MiB(w.bound))
	}
	return false
}

// download GETs url and checks the body against v; nil when the answer
// was 200 and exactly v's bytes.
func download(ctx context.Context, c *http.Client, url string, v *stream.Verifier) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	if _, err := io.Copy(v, resp.Body); err != nil {
		return fmt.Errorf("after %d matching bytes: %w", v.Received(), err)
	}
	return v.Check()
}

// TestStreamDownload1GiB: a 1 GiB body (Content-Length) comes through the
// LB intact while the LB's memory stays a small fraction of it.
func TestStreamDownload1GiB(t *testing.T) {
	// downloadRSSBound: an idle lb holds about 19 MiB; a streaming proxy
	// adds its fixed per-transfer buffers, whatever the body's size.
	const downloadRSSBound = 64 << 20
	rig := startStreamRig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b := stream.Bytes{N: 1 << 30, Seed: 1}
	w := watchMemory(rig.lb, downloadRSSBound, cancel)
	start := time.Now()
	err := download(ctx, rig.client, rig.url(b.Path()), stream.NewVerifier(stream.NewContent(b.Seed), b.N))
	took := time.Since(start)
	killed := w.check(t, "1 GiB download")
	switch {
	case err == nil:
		t.Logf("1 GiB through the LB in %s (%.0f MiB/s), every byte checked", took.Round(time.Millisecond), 1024/took.Seconds())
	case killed:
		t.Logf("download after the LB was killed: %v", err)
	default:
		t.Errorf("1 GiB download: %v", err)
	}
}

// hashingReader hashes what is read through it.
type hashingReader struct {
	r io.Reader
	h hash.Hash
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	return n, err
}

// TestStreamUpload1GiB: a 1 GiB request body, generated as it is sent,
// reaches the backend intact (its byte count and SHA-256 match what was
// sent) while the LB's memory stays a small fraction of it.
func TestStreamUpload1GiB(t *testing.T) {
	// uploadRSSBound: as downloadRSSBound, the other way.
	const uploadRSSBound = 64 << 20
	const n = 1 << 30
	rig := startStreamRig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	body := &hashingReader{r: stream.NewReader(stream.NewContent(2), n), h: sha256.New()}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rig.url(stream.PathUpload), body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = n
	req.Header.Set("Content-Type", "application/octet-stream")
	w := watchMemory(rig.lb, uploadRSSBound, cancel)
	start := time.Now()
	var res stream.UploadResult
	resp, err := rig.client.Do(req)
	if err == nil {
		err = json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("status %d: %+v", resp.StatusCode, res)
		}
	}
	took := time.Since(start)
	killed := w.check(t, "1 GiB upload")
	switch {
	case err != nil && killed:
		t.Logf("upload after the LB was killed: %v", err)
	case err != nil:
		t.Errorf("1 GiB upload: %v", err)
	default:
		sent := hex.EncodeToString(body.h.Sum(nil))
		if res.Bytes != n || res.SHA256 != sent {
			t.Errorf("the backend read %d bytes, sha256 %s; sent %d bytes, sha256 %s", res.Bytes, res.SHA256, n, sent)
		} else {
			t.Logf("1 GiB upload through the LB in %s (%.0f MiB/s), the backend's SHA-256 matches", took.Round(time.Millisecond), 1024/took.Seconds())
		}
	}
}

// TestStreamConcurrentDownloads: 100 downloads of 64 MiB at once, each of
// its own seed (a body crossed into another connection does not match):
// all complete intact, and the LB's memory stays bounded.
func TestStreamConcurrentDownloads(t *testing.T) {
	// concurrentRSSBound: an idle lb holds about 19 MiB and 100 requests
	// in flight (200 connections) add about 4 MiB; a streaming proxy adds
	// its fixed buffers per transfer (64 KiB each way would be 12.5 MiB
	// for 100), never the 6.25 GiB passing through.
	const concurrentRSSBound = 96 << 20
	const downloads, size = 100, 64 << 20
	rig := startStreamRig(t)
	// 6.25 GiB through race-built processes: about 20s on a quiet 2-core
	// machine, over 60s when the other packages' tests run beside it.
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()
	w := watchMemory(rig.lb, concurrentRSSBound, cancel)
	start := time.Now()
	errs := make([]error, downloads)
	var wg sync.WaitGroup
	for i := range downloads {
		wg.Go(func() {
			b := stream.Bytes{N: size, Seed: uint64(100 + i)}
			errs[i] = download(ctx, rig.client, rig.url(b.Path()), stream.NewVerifier(stream.NewContent(b.Seed), b.N))
		})
	}
	wg.Wait()
	took := time.Since(start)
	killed := w.check(t, "100 × 64 MiB downloads")
	failed := 0
	for i, err := range errs {
		if err == nil {
			continue
		}
		failed++
		switch {
		case killed:
			if failed == 1 {
				t.Logf("download %d after the LB was killed: %v", i, err)
			}
		case failed <= 5:
			t.Errorf("download %d (seed %d): %v", i, 100+i, err)
		}
	}
	if failed > 0 && !killed {
		t.Errorf("%d of %d downloads failed", failed, downloads)
	}
	if failed == 0 {
		t.Logf("%d × 64 MiB through the LB in %s (%.0f MiB/s), every byte checked", downloads, took.Round(time.Millisecond), float64(downloads*64)/took.Seconds())
	}
}

// TestStreamSlowReader: a client reads a fast backend's 1 GiB answer at
// about 1 MiB/s for a few seconds. The LB must not read ahead of the
// client into its own memory: what the client has not read stays in the
// backend (and the sockets' kernel buffers, which are not the LB's RSS).
func TestStreamSlowReader(t *testing.T) {
	// slowReaderRSSBound: as downloadRSSBound; a proxy that reads ahead
	// holds the backend's answer instead, as fast as loopback and the
	// backend go (hundreds of MiB a second).
	const slowReaderRSSBound = 64 << 20
	const rate = 1 << 20            // bytes per second the client reads
	const readFor = 4 * time.Second // how long it reads
	rig := startStreamRig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b := stream.Bytes{N: 1 << 30, Seed: 3}
	w := watchMemory(rig.lb, slowReaderRSSBound, cancel)
	v := stream.NewVerifier(stream.NewContent(b.Seed), b.N)
	err := func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rig.url(b.Path()), nil)
		if err != nil {
			return err
		}
		resp, err := rig.client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		buf := make([]byte, 16<<10)
		start := time.Now()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for time.Since(start) < readFor {
			// Read what the pace allows by now, then wait for the tick.
			for allowed := int64(time.Since(start).Seconds() * rate); v.Received() < allowed; {
				k, err := resp.Body.Read(buf[:min(int64(len(buf)), allowed-v.Received())])
				if _, werr := v.Write(buf[:k]); werr != nil {
					return werr
				}
				if err != nil {
					return fmt.Errorf("after %d bytes: %w", v.Received(), err)
				}
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil // the deferred Close ends the download early
	}()
	killed := w.check(t, fmt.Sprintf("a client reading at 1 MiB/s for %s", readFor))
	switch {
	case err != nil && killed:
		t.Logf("slow read after the LB was killed: %v (%d bytes read)", err, v.Received())
	case err != nil:
		t.Errorf("slow read: %v", err)
	case v.Received() < rate*int64(readFor/time.Second)/2:
		// The LB sent less than half of what the client asked for in
		// time: it did not hand the body over as it came.
		t.Errorf("the client read only %d bytes in %s at 1 MiB/s", v.Received(), readFor)
	default:
		t.Logf("the client read %.1f MiB in %s, every byte checked", float64(v.Received())/(1<<20), readFor)
	}
}

// TestStreamSSE: with the default configuration, every Server-Sent Event
// reaches the client through the LB within sseEventBound of the moment
// the backend wrote and flushed it (sent_unix_ns; one machine, one
// clock), but for at most maxLate of them, and none later than the next
// one is due. The first event is held to the same bound: the backend writes
// it when the request arrives, so it crosses the same path as the others.
func TestStreamSSE(t *testing.T) {
	// sseEventBound: an event crosses loopback twice and the LB once; a
	// few milliseconds on a quiet machine, 20 ms leaves room for a busy
	// 2-core one with race-built processes.
	const sseEventBound = 20 * time.Millisecond
	// maxLate: one event may miss the bound when a race-built process is
	// descheduled on a loaded CI machine; a proxy that holds events back
	// misses it for all of them.
	const maxLate = 1
	const every, events = 100 * time.Millisecond, 20
	a := freePorts(t, 3)
	adminAddr, lbAddr, backend := a[0], a[1], a[2]
	startBackend(t, backend, "e1")
	startLB(t, lbConfig(adminAddr, lbAddr, "", "", backend))
	waitHealthy(t, client(t, 5*time.Second), adminAddr, backend)

	c := streamClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), events*every+20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+lbAddr+stream.SSE{Every: every, N: events}.Path(), nil)
	sent := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	er := stream.NewEventReader(resp.Body)
	var worst time.Duration
	late := 0
	for i := int64(1); i <= events; i++ {
		e, err := er.Next()
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if e.Seq != i {
			t.Fatalf("event %d has seq %d", i, e.Seq)
		}
		if i == 1 {
			t.Logf("first event %s after the request", e.Received.Sub(sent).Round(time.Microsecond))
		}
		d := e.Delay()
		worst = max(worst, d)
		if d > sseEventBound {
			late++
			t.Logf("event %d reached the client %s after the backend sent it", i, d.Round(time.Microsecond))
		}
		if d >= every {
			t.Errorf("event %d reached the client %s after the backend sent it, after the next one was due: held back", i, d.Round(time.Microsecond))
		}
	}
	if late > maxLate {
		t.Errorf("%d of %d events later than %s; want at most %d (a scheduling hiccup on a busy machine)", late, events, sseEventBound, maxLate)
	}
	if _, err := er.Next(); err != io.EOF {
		t.Errorf("after %d events: %v, want the end of the stream", events, err)
	}
	t.Logf("%d events every %s through the LB: %d late, worst delay %s", events, every, late, worst.Round(time.Microsecond))
}

// TestStreamBackendCutMidBody: a backend that closes its connection in the
// middle of a body (short of its Content-Length, or before the last
// chunk) must never give the client what looks like a whole answer: the
// client gets an error status (the LB noticed before it answered) or a
// 200 whose body ends in a transport error (it did not), never a body
// that ends cleanly, short. The bytes that do come through are the
// backend's.
func TestStreamBackendCutMidBody(t *testing.T) {
	a := freePorts(t, 3)
	adminAddr, lbAddr, backend := a[0], a[1], a[2]
	startBackend(t, backend, "c1")
	startLB(t, lbConfig(adminAddr, lbAddr, "", "", backend))
	waitHealthy(t, client(t, 5*time.Second), adminAddr, backend)
	c := streamClient(t)
	for _, chunked := range []bool{false, true} {
		b := stream.Bytes{N: 8 << 20, Seed: 4, Chunked: chunked, Abort: true, AbortAfter: 3<<20 + 5}
		what := fmt.Sprintf("chunked %v, cut after %d of %d bytes", chunked, b.AbortAfter, b.N)
		func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+lbAddr+b.Path(), nil)
			resp, err := c.Do(req)
			if err != nil {
				t.Logf("%s: no answer: %v", what, err)
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Logf("%s: the LB answered %d", what, resp.StatusCode)
				return
			}
			v := stream.NewVerifier(stream.NewContent(b.Seed), b.N)
			_, err = io.Copy(v, resp.Body)
			switch {
			case errors.Is(err, stream.ErrMismatch):
				t.Errorf("%s: the bytes that came through differ: %v", what, err)
			case err == nil && v.Check() == nil:
				t.Errorf("%s: the client got the whole body", what)
			case err == nil:
				t.Errorf("%s: the body ended cleanly after %d bytes: the client cannot tell it was cut", what, v.Received())
			case v.Received() > b.AbortAfter:
				t.Errorf("%s: the client got %d bytes", what, v.Received())
			default:
				t.Logf("%s: 200, then %d bytes and %v", what, v.Received(), err)
			}
		}()
	}
	// The LB is still fine.
	if code, _, _, err := httpGet(client(t, 5*time.Second), "http://"+lbAddr+"/"); err != nil || code != 200 {
		t.Errorf("after the cut bodies: %d %v", code, err)
	}
}
