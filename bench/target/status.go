package target

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// BackendView is one backend as the lb's /status shows it; the fields the
// benchmark reads.
type BackendView struct {
	Address  string    `json:"address"`  // host:port as configured
	State    string    `json:"state"`    // healthy, unhealthy, draining, ...
	Reason   string    `json:"reason"`   // why it is in that state
	Since    time.Time `json:"since"`    // when it entered it
	Requests uint64    `json:"requests"` // requests the LB routed to it so far
	// Rescued counts requests that were waiting on it when the LB held it
	// out for not answering and were sent to another backend instead.
	Rescued uint64 `json:"rescued"`
}

// FetchStatus reads every backend of every pool from an lb admin
// listener's /status.
func FetchStatus(ctx context.Context, c *http.Client, admin string) ([]BackendView, error) {
	var body struct {
		Pools []struct {
			Backends []BackendView `json:"backends"`
		} `json:"pools"`
	}
	if err := GetJSON(ctx, c, admin, "/status", &body); err != nil {
		return nil, err
	}
	var out []BackendView
	for _, p := range body.Pools {
		out = append(out, p.Backends...)
	}
	return out, nil
}

// CounterSample says that at At the LB's request counter for backend Ref
// had grown since the poll before (at Prev).
type CounterSample struct {
	At   time.Time // the poll that saw the growth
	Prev time.Time // the poll before it
	Ref  string    // the backend's address
}

// Poller watches an lb admin listener's /status: every change of a
// backend's request counter (the LB routed requests to it) and of its
// state. Safe for concurrent use.
type Poller struct {
	admin  string
	every  time.Duration
	client *http.Client

	mu       sync.Mutex
	samples  []CounterSample
	events   []LBEvent
	errors   int
	stop     context.CancelFunc
	finished chan struct{}
}

// StartPoller polls admin's /status every interval until Stop.
func StartPoller(admin string, interval time.Duration) *Poller {
	ctx, cancel := context.WithCancel(context.Background())
	p := &Poller{
		admin: admin, every: interval,
		client:   &http.Client{Timeout: time.Second},
		stop:     cancel,
		finished: make(chan struct{}),
	}
	go p.run(ctx)
	return p
}

func (p *Poller) run(ctx context.Context) {
	defer close(p.finished)
	defer p.client.CloseIdleConnections()
	t := time.NewTicker(p.every)
	defer t.Stop()
	last := map[string]BackendView{}
	var prev time.Time
	for {
		views, err := FetchStatus(ctx, p.client, p.admin)
		now := time.Now()
		p.mu.Lock()
		if err != nil {
			p.errors++
		}
		for _, v := range views {
			old, seen := last[v.Address]
			if seen && v.Requests > old.Requests {
				p.samples = append(p.samples, CounterSample{At: now, Prev: prev, Ref: v.Address})
			}
			if seen && v.State != old.State {
				p.events = append(p.events, LBEvent{At: v.Since, Ref: v.Address, From: old.State, To: v.State, Reason: v.Reason})
			}
			last[v.Address] = v
		}
		p.mu.Unlock()
		if err == nil {
			prev = now
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Stop ends the polling and waits for the poller to finish.
func (p *Poller) Stop() {
	p.stop()
	<-p.finished
}

// Samples are the counter increases seen so far.
func (p *Poller) Samples() []CounterSample {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]CounterSample(nil), p.samples...)
}

// Events are the state changes seen so far (each with the LB's own
// timestamp; changes faster than the poll interval are seen as one).
func (p *Poller) Events() []LBEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]LBEvent(nil), p.events...)
}

// Rescued reads the admin's /status once more and returns each
// backend's rescue count by address (BackendView.Rescued); nil on an
// error.
func (p *Poller) Rescued(ctx context.Context) map[string]uint64 {
	views, err := FetchStatus(ctx, p.client, p.admin)
	if err != nil {
		return nil
	}
	out := make(map[string]uint64, len(views))
	for _, v := range views {
		out[v.Address] = v.Rescued
	}
	return out
}

// Errors is how many polls failed.
func (p *Poller) Errors() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errors
}

// GetJSON reads path from an lb admin listener (host:port) into v: an
// error names the path and says what failed (the request, a status other
// than 200, the decoding).
func GetJSON(ctx context.Context, c *http.Client, admin, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+admin+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}
