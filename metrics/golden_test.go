package metrics

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lbtrust/lb/balancer"
	"github.com/lbtrust/lb/internal/leakcheck"
	"github.com/lbtrust/lb/pool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }

// goldenPools returns two pools whose backends stand in every state, with
// counters large enough to need an exponent, a stale and a healthy
// discovery source, and names that need escaping. The caller closes
// them.
func goldenPools(t *testing.T) []*pool.Pool {
	t.Helper()
	pol, err := balancer.New(balancer.RoundRobin)
	if err != nil {
		t.Fatal(err)
	}
	web := pool.New(pool.Options{Name: "web", Policy: pol, Thresholds: pool.Thresholds{Healthy: 1, Unhealthy: 1},
		DeregistrationDelay: time.Hour})
	pol2, _ := balancer.New(balancer.RoundRobin)
	odd := pool.New(pool.Options{Name: `o"d\d` + "\n", Policy: pol2})
	empty := pool.New(pool.Options{Name: "empty", Policy: pol2})
	t.Cleanup(func() { web.Close(); odd.Close(); empty.Close() })

	add := func(p *pool.Pool, addr string) *pool.Backend {
		b, _, err := p.Add(addr, 1)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	passed := pool.CheckResult{Outcome: pool.ReasonCheckPassed, Code: 200}
	healthy := add(web, "127.0.0.1:1")
	healthy.ObserveCheck(passed)
	for range 1_234_567 {
		healthy.NoteStatus(200)
	}
	for range 3 {
		healthy.NoteStatus(404)
	}
	add(web, "127.0.0.1:2").ObserveCheck(pool.CheckResult{Outcome: pool.ReasonConnectionRefused, Err: errors.New("refused")})
	draining := add(web, "127.0.0.1:3")
	draining.ObserveCheck(passed)
	if b := web.Acquire(nil); b == nil {
		t.Fatal("no backend")
	} else {
		b.StartStream(pool.RequestOK, 0)
	}
	add(web, "127.0.0.1:4") // INITIAL
	if err := web.Drain("127.0.0.1:3"); err != nil {
		t.Fatal(err)
	}
	if err := web.Drain("127.0.0.1:2"); err != nil { // DRAINED at once
		t.Fatal(err)
	}
	healthy.NoteRescued()
	for range 5 {
		web.NoteRetry()
		web.NoteNoBackend()
	}
	web.NoteRetryRefused()
	web.SetSources([]pool.SourceStatus{
		{Source: "dns _http._tcp.web.internal (srv)", State: pool.SourceOK, Backends: 4, Updates: 7},
		{Source: `etcd /lb/"pools"/web/`, State: pool.SourceStale, Errors: 2, Updates: 1_000_000},
	})
	add(odd, `127.0.0.1:5`)
	return []*pool.Pool{web, odd, empty}
}

// TestPoolFamiliesMatchClientGolang: the pool families Handler writes are
// line for line what client_golang wrote for the same pools through the
// const-metric collector they replaced (refPoolCollector): the same
// HELP and TYPE lines and the same samples, labels and values. Only the
// order of samples within a family may differ.
func TestPoolFamiliesMatchClientGolang(t *testing.T) {
	pools := goldenPools(t)
	reg := prometheus.NewRegistry()
	reg.MustRegister(newRefPoolCollector(func() []*pool.Pool { return pools }))
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	var wantHeaders []string
	for _, f := range fams {
		if _, err := expfmt.MetricFamilyToText(&want, f); err != nil {
			t.Fatal(err)
		}
	}
	var got bytes.Buffer
	New(func() []*pool.Pool { return nil }).writeText(&got, nil, readPools(pools))

	lines := func(b *bytes.Buffer, headers *[]string) []string {
		ls := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if headers != nil {
			for _, l := range ls {
				if strings.HasPrefix(l, "#") {
					*headers = append(*headers, l)
				}
			}
		}
		slices.Sort(ls)
		return ls
	}
	var gotHeaders []string
	w, g := lines(&want, &wantHeaders), lines(&got, &gotHeaders)
	if !slices.Equal(g, w) {
		t.Fatalf("pool families differ from client_golang's.\ngot:\n%s\nwant:\n%s", got.String(), want.String())
	}
	if !slices.Equal(gotHeaders, wantHeaders) {
		t.Fatalf("families in another order:\n%s\nwant:\n%s", strings.Join(gotHeaders, "\n"), strings.Join(wantHeaders, "\n"))
	}
	if !strings.Contains(got.String(), `lb_requests_total{backend="127.0.0.1:1",class="2xx",pool="web"} 1.234567e+06`) {
		t.Fatalf("no exponent for 1,234,567 answers:\n%s", got.String())
	}
	// Each family's lines are together (the parser refuses a family seen
	// twice) and the text parses.
	parser := expfmt.NewTextParser(model.UTF8Validation)
	if _, err := parser.TextToMetricFamilies(&got); err != nil {
		t.Fatalf("not valid Prometheus text: %v", err)
	}
}

// TestPoolFamiliesInNameOrder: the pool families are listed in name
// order, which Handler's merge with the registry's families needs.
func TestPoolFamiliesInNameOrder(t *testing.T) {
	for i := 1; i < len(poolFamilies); i++ {
		if poolFamilies[i-1].name >= poolFamilies[i].name {
			t.Fatalf("poolFamilies: %s before %s", poolFamilies[i-1].name, poolFamilies[i].name)
		}
	}
}

// TestNoPoolsNoFamilies: without pools (or backends, or discovery
// sources) those families are left out, HELP and TYPE included, as
// client_golang leaves them out.
func TestNoPoolsNoFamilies(t *testing.T) {
	var got bytes.Buffer
	New(func() []*pool.Pool { return nil }).writeText(&got, nil, readPools(nil))
	if got.Len() != 0 {
		t.Fatalf("pool families without pools:\n%s", got.String())
	}
}
