package chaos

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lbtrust/lb/bench/procstat"
	"github.com/lbtrust/lb/bench/target"
)

// Sample is the lb's resources at one moment.
type Sample struct {
	At         time.Duration `json:"at"`         // since the start of the load
	RSS        int64         `json:"rss"`        // resident set, bytes
	Goroutines int           `json:"goroutines"` // go_goroutines from its /metrics
	FDs        int           `json:"fds"`        // open descriptors (/proc/PID/fd)
	CPU        time.Duration `json:"cpu"`        // user + system so far
	// CPUPercent is the CPU used since the sample before, in percent of
	// one CPU.
	CPUPercent float64 `json:"cpu_percent"`
}

// Event is one entry of the lb's /events, the fields the check reads.
type Event struct {
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Kind    string    `json:"kind"`
	Pool    string    `json:"pool,omitempty"`
	Backend string    `json:"backend,omitempty"`
	From    string    `json:"from,omitempty"`
	To      string    `json:"to,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	Detail  string    `json:"detail,omitempty"`
}

// Watcher samples the lb's resources and reads its /events every
// interval until Stop. Safe for concurrent use.
type Watcher struct {
	pid   int
	admin string
	began time.Time
	every time.Duration
	c     *http.Client

	mu      sync.Mutex
	samples []Sample
	events  map[uint64]Event
	errs    int
	lastErr string

	stop context.CancelFunc
	done chan struct{}
}

// Measure reads the lb's resources once: pid's process group from /proc
// and go_goroutines from admin's /metrics.
func Measure(ctx context.Context, c *http.Client, pid int, admin string) (Sample, error) {
	st, err := procstat.Group(pid)
	if err != nil {
		return Sample{}, err
	}
	g, err := goroutines(ctx, c, admin)
	if err != nil {
		return Sample{}, err
	}
	return Sample{RSS: st.RSS, FDs: st.FDs, CPU: st.CPU, Goroutines: g}, nil
}

// Watch starts a Watcher of the lb whose process group is pid, with its
// admin listener at admin; began is time zero of the samples.
func Watch(pid int, admin string, began time.Time, every time.Duration) *Watcher {
	ctx, cancel := context.WithCancel(context.Background())
	w := &Watcher{pid: pid, admin: admin, began: began, every: every,
		c: &http.Client{Timeout: 5 * time.Second}, events: map[uint64]Event{}, stop: cancel, done: make(chan struct{})}
	go w.run(ctx)
	return w
}

func (w *Watcher) run(ctx context.Context) {
	defer close(w.done)
	defer w.c.CloseIdleConnections()
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		w.once(ctx)
		select {
		case <-ctx.Done():
			w.once(context.Background()) // the last events
			return
		case <-t.C:
		}
	}
}

func (w *Watcher) once(ctx context.Context) {
	s, err := Measure(ctx, w.c, w.pid, w.admin)
	evs, err2 := fetchEvents(ctx, w.c, w.admin)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err == nil {
		s.At = time.Since(w.began)
		if n := len(w.samples); n > 0 {
			prev := w.samples[n-1]
			if dt := s.At - prev.At; dt > 0 {
				s.CPUPercent = 100 * float64(s.CPU-prev.CPU) / float64(dt)
			}
		}
		w.samples = append(w.samples, s)
	}
	if err2 == nil {
		for _, e := range evs {
			w.events[e.Seq] = e
		}
	}
	for _, e := range []error{err, err2} {
		if e != nil && ctx.Err() == nil {
			w.errs++
			w.lastErr = e.Error()
		}
	}
}

// Stop ends the watching (after one last reading of /events).
func (w *Watcher) Stop() {
	w.stop()
	<-w.done
}

// Samples are the readings so far, in time order.
func (w *Watcher) Samples() []Sample {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Sample(nil), w.samples...)
}

// Events are the events read so far, by Seq, and how many Seqs are
// missing between the first and the last (the ring forgot them before
// they were read).
func (w *Watcher) Events() (evs []Event, missing int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var lo, hi uint64
	for seq, e := range w.events {
		evs = append(evs, e)
		if lo == 0 || seq < lo {
			lo = seq
		}
		hi = max(hi, seq)
	}
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].Seq < evs[j-1].Seq; j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
	if hi > 0 {
		missing = int(hi-lo+1) - len(evs)
	}
	return evs, missing
}

// Errors is how many readings failed, and the last error.
func (w *Watcher) Errors() (int, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.errs, w.lastErr
}

// goroutines reads go_goroutines from an lb admin listener's /metrics.
func goroutines(ctx context.Context, c *http.Client, admin string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+admin+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("go_goroutines %q: %w", v, err)
			}
			return int(f), nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("GET /metrics: no go_goroutines")
}

// fetchEvents reads an lb admin listener's /events.
func fetchEvents(ctx context.Context, c *http.Client, admin string) ([]Event, error) {
	var body struct {
		Events []Event `json:"events"`
	}
	if err := target.GetJSON(ctx, c, admin, "/events", &body); err != nil {
		return nil, err
	}
	return body.Events, nil
}
