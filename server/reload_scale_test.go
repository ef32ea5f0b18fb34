package server

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/pool"
)

// A reload that changes one backend of a 10,000-backend pool (issue 14:
// "applies in under 100 ms without stalling requests"). These are
// benchmarks, not tests: building 10,000 HEALTHY backends takes seconds,
// and no test asserts a time. Run them with
//
//	go test -run x -bench ReloadOneBackend -benchtime 20x ./server/
//
// ns/op is one LB.Reload of an already parsed file (the part that holds
// LB.mu and touches the pool), max-reload-ns the longest; parse-ns is
// config.Parse of that file, once; max-gap-ns is the longest time between
// two consecutive Acquire/Release pairs of a goroutine that keeps
// acquiring from the pool while the reloads run, and idle-max-gap-ns the
// same goroutine's longest gap over as long a time right after, without
// reloads: what the machine (scheduler, GC, other processes) costs
// anyway.

// scaleBase is the first port of the scale pool's backend addresses.
// Nothing dials them: the checks probe one listener through the
// health_check port, and no request is proxied.
const scaleBase = 20_000

// scaleSource renders a pool of n backends 127.0.0.1:scaleBase+i whose
// TCP checks all go to probePort, with one backend changed by change:
// "" none, "weight" the first one's weight 1 -> 2, "replace" the last one
// swapped for 127.0.0.1:scaleBase+n.
func scaleSource(n, probePort int, change string) string {
	var b strings.Builder
	b.Grow(n * 40)
	fmt.Fprintf(&b, `listener "public" {
  address = "127.0.0.1:0"
  pool    = "web"
}
pool "web" {
  algorithm = "least_conn"
  health_check {
    type     = "tcp"
    port     = %d
    interval = "60s"
    timeout  = "5s"
  }
`, probePort)
	for i := range n {
		addr, weight := scaleBase+i, 1
		switch {
		case change == "weight" && i == 0:
			weight = 2
		case change == "replace" && i == n-1:
			addr = scaleBase + n
		}
		fmt.Fprintf(&b, "  backend \"127.0.0.1:%d\" { weight = %d }\n", addr, weight)
	}
	b.WriteString("}\n")
	return b.String()
}

// probeListener accepts connections on 127.0.0.1 and closes them: every
// TCP check passes. It is closed at cleanup.
func probeListener(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	tb.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().(*net.TCPAddr).Port
}

func BenchmarkReloadOneBackend(b *testing.B) {
	const n = 10_000
	port := probeListener(b)
	t0 := time.Now()
	base := scaleSource(n, port, "")
	parsed, diags := config.Parse([]byte(base), "scale.hcl")
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	parse := time.Since(t0)
	lb := startLB(b, parsed, Options{Version: "test"})
	p := lb.Pools()[0]
	t0 = time.Now()
	deadline := t0.Add(5 * time.Minute)
	for p.Eligible() < n {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d backends eligible after 5 minutes", p.Eligible(), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Logf("%d backends HEALTHY %s after start; parsing the file took %s", n, time.Since(t0).Round(time.Millisecond), parse.Round(time.Millisecond))

	for _, change := range []string{"weight", "replace"} {
		b.Run(change, func(b *testing.B) {
			cfgs := [2]*config.Config{mustParseB(b, scaleSource(n, port, change)), mustParseB(b, base)}
			stop := make(chan struct{})
			var maxGap atomic.Int64
			var picks atomic.Int64
			var wg sync.WaitGroup
			wg.Go(func() {
				last := time.Now()
				for {
					select {
					case <-stop:
						return
					default:
					}
					if x := p.Acquire(nil); x != nil {
						x.Release(pool.RequestOK, 0)
					}
					picks.Add(1)
					now := time.Now()
					if gap := int64(now.Sub(last)); gap > maxGap.Load() {
						maxGap.Store(gap)
					}
					last = now
				}
			})
			time.Sleep(10 * time.Millisecond) // the picker is running
			maxGap.Store(0)
			before := picks.Load()
			k := 0
			var longest time.Duration
			began := time.Now()
			for b.Loop() {
				t := time.Now()
				if err := lb.Reload(cfgs[k%2]); err != nil {
					b.Fatal(err)
				}
				longest = max(longest, time.Since(t))
				k++
			}
			b.StopTimer()
			gap := maxGap.Load()
			during := picks.Load() - before
			maxGap.Store(0)
			time.Sleep(time.Since(began))
			idleGap := maxGap.Load()
			close(stop)
			wg.Wait()
			if k%2 == 1 { // leave the pool as the base file has it
				if err := lb.Reload(cfgs[1]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(longest.Nanoseconds()), "max-reload-ns")
			b.ReportMetric(float64(gap), "max-gap-ns")
			b.ReportMetric(float64(idleGap), "idle-max-gap-ns")
			b.ReportMetric(float64(parse.Nanoseconds()), "parse-ns")
			b.Logf("%d reloads: longest %s; %d picks meanwhile, longest gap between two %s (%s without reloads)",
				k, longest.Round(time.Microsecond), during, time.Duration(gap).Round(time.Microsecond),
				time.Duration(idleGap).Round(time.Microsecond))
		})
	}
}

func mustParseB(tb testing.TB, src string) *config.Config {
	tb.Helper()
	cfg, diags := config.Parse([]byte(src), "scale.hcl")
	if diags.HasErrors() {
		tb.Fatal(diags.Error())
	}
	return cfg
}

// TestReloadValidatesOnlyWhatChanged: a reload validates (builds a
// checker for) the backends it adds, and every backend when the check
// settings change, never the ones that already run under the same.
func TestReloadValidatesOnlyWhatChanged(t *testing.T) {
	running := mustParseB(t, scaleSource(3, 9, ""))
	pr := &poolRuntime{cfg: running.Pools[0], backends: map[string]*backendRuntime{}}
	for _, bc := range running.Pools[0].Backends {
		pr.backends[bc.Address] = &backendRuntime{}
	}
	tests := []struct {
		name string
		pr   *poolRuntime
		src  string
		want []string // addresses validated
	}{
		{"new pool", nil, scaleSource(3, 9, ""), []string{"127.0.0.1:20000", "127.0.0.1:20001", "127.0.0.1:20002"}},
		{"nothing changed", pr, scaleSource(3, 9, ""), nil},
		{"a weight changed", pr, scaleSource(3, 9, "weight"), nil},
		{"a backend replaced", pr, scaleSource(3, 9, "replace"), []string{"127.0.0.1:20003"}},
		{"check settings changed", pr, scaleSource(3, 10, ""), []string{"127.0.0.1:20000", "127.0.0.1:20001", "127.0.0.1:20002"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pc := mustParseB(t, tt.src).Pools[0]
			var got []string
			for _, bc := range unvalidated(pc, tt.pr).Backends {
				got = append(got, bc.Address)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("validated %v, want %v", got, tt.want)
			}
		})
	}
}
