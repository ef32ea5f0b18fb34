// Package load drives traffic at the load balancer under test with
// vegeta's attack library: open-loop at a constant rate (a stalled target
// does not slow the sender down, so coordinated omission cannot hide a
// stall), or closed-loop at the highest rate a fixed number of workers
// reach. Every response becomes a record.Record.
package load

import (
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/lbtrust/lb/bench/record"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Options configure a load run.
type Options struct {
	URL    string // where to send every request
	Method string // GET (default) or POST
	Body   []byte // request body (POST)
	// Rate is requests per second; 0 runs closed-loop: Workers workers
	// each send the next request as soon as the previous one ends.
	Rate     int
	Duration time.Duration // how long requests are started for
	// Connections is the number of idle keep-alive connections kept to
	// the target.
	Connections int
	// Workers is the closed-loop concurrency (Rate == 0); with a rate it
	// is only the initial number, vegeta adds more when all are busy.
	Workers int
	// Timeout bounds every request.
	Timeout time.Duration
	// Header is the response header naming the backend that answered,
	// and Backends the names it may hold, in index order.
	Header   string   // e.g. X-Backend
	Backends []string // names, in index order
}

// Run is a load run in progress. Its methods are safe for concurrent use.
type Run struct {
	atk     *vegeta.Attacker
	tr      *http.Transport
	began   time.Time
	sent    atomic.Uint64
	failed  atomic.Uint64
	done    chan struct{}
	records []record.Record // every record, set by the collector before done closes
}

// recordChunk is how many records the collector keeps in one block while
// the load runs. Appending to one slice of every record copied the whole
// slice each time it grew: at 1,000 requests a second that copy took
// 200 ms to 1.3 s an hour in, and the collector, stuck in it, stopped
// vegeta's workers (they hand each result over before sending the next
// request): the load itself stalled, at growing intervals, and the
// stalls showed up as latency that was the bench's own. Blocks of a fixed
// size never copy; they are joined once, after the load has ended.
const recordChunk = 1 << 16

// Start begins the load and returns at once. Began is time zero of every
// record.
func Start(o Options) *Run {
	if o.Method == "" {
		o.Method = http.MethodGet
	}
	// The transport is the bench's own, so that CloseIdle can close the
	// connections the load kept to the target; the options below set it
	// up as vegeta's own would be.
	tr := &http.Transport{MaxIdleConnsPerHost: vegeta.DefaultConnections}
	opts := []func(*vegeta.Attacker){
		vegeta.Client(&http.Client{Transport: tr}),
		vegeta.Connections(max(o.Connections, o.Workers, 1)),
		vegeta.Timeout(o.Timeout),
		vegeta.KeepAlive(true),
		vegeta.Redirects(vegeta.NoFollow),
		vegeta.MaxBody(0), // the body is drained and discarded, never kept
		vegeta.LocalAddr(net.IPAddr{IP: net.IPv4(127, 0, 0, 1)}),
	}
	pacer := vegeta.Pacer(vegeta.ConstantPacer{Freq: o.Rate, Per: time.Second})
	if o.Rate <= 0 {
		pacer = vegeta.ConstantPacer{} // as fast as the workers go
		opts = append(opts, vegeta.Workers(uint64(max(o.Workers, 1))), vegeta.MaxWorkers(uint64(max(o.Workers, 1))))
	} else if o.Workers > 0 {
		opts = append(opts, vegeta.Workers(uint64(o.Workers)))
	}
	r := &Run{atk: vegeta.NewAttacker(opts...), tr: tr, done: make(chan struct{})}
	tgt := vegeta.NewStaticTargeter(vegeta.Target{Method: o.Method, URL: o.URL, Body: o.Body})
	index := map[string]int16{}
	for i, n := range o.Backends {
		index[n] = int16(i)
	}
	r.began = time.Now()
	results := r.atk.Attack(tgt, pacer, o.Duration, "bench")
	go r.collect(results, o.Header, index)
	return r
}

// Began is when the load started: time zero of the records.
func (r *Run) Began() time.Time { return r.began }

// Progress is the number of requests answered (or failed) so far and how
// many of them failed.
func (r *Run) Progress() (done, failed uint64) { return r.sent.Load(), r.failed.Load() }

// Stop ends the load early; requests in flight still complete.
func (r *Run) Stop() { r.atk.Stop() }

// CloseIdle closes the keep-alive connections the load holds to the
// target and are idle (all of them once the load has ended), so that
// what the target holds afterwards is its own.
func (r *Run) CloseIdle() { r.tr.CloseIdleConnections() }

// Done is closed once the load ended and every response is recorded.
func (r *Run) Done() <-chan struct{} { return r.done }

// Records waits for the run to end and returns every response, in the
// order they completed.
func (r *Run) Records() []record.Record {
	<-r.done
	return r.records
}

// collect turns vegeta results into records until the attack ends.
func (r *Run) collect(results <-chan *vegeta.Result, header string, index map[string]int16) {
	defer close(r.done)
	var full [][]record.Record // blocks of recordChunk records
	cur := make([]record.Record, 0, recordChunk)
	for res := range results {
		rec := Convert(res, r.began, header, index)
		if len(cur) == recordChunk {
			full = append(full, cur)
			cur = make([]record.Record, 0, recordChunk)
		}
		cur = append(cur, rec)
		if rec.Failed() {
			r.failed.Add(1)
		}
		r.sent.Add(1)
	}
	r.records = make([]record.Record, 0, len(full)*recordChunk+len(cur))
	for _, c := range full {
		r.records = append(r.records, c...)
	}
	r.records = append(r.records, cur...)
}
