package report

import (
	"bytes"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lbtrust/lb/bench/internal/htmlcheck"
	"github.com/lbtrust/lb/bench/record"
)

const ms1 = time.Millisecond

// rec is a record shorthand: start and latency in milliseconds.
func rec(startMS, latMS int, code uint16, kind record.Kind, backend int16) record.Record {
	return record.Record{Start: time.Duration(startMS) * ms1, Latency: time.Duration(latMS) * ms1, Code: code, Kind: kind, Backend: backend}
}

func baseInput() Input {
	return Input{
		Config:   Config{Scenario: "kill", Rate: 10, Duration: Duration(10 * time.Second), Method: "GET", Backends: 2, Target: "lb"},
		Machine:  Machine{CPUs: 2},
		Backends: []BackendInfo{{Name: "b1", Addr: "127.0.0.1:1"}, {Name: "b2", Addr: "127.0.0.1:2"}},
	}
}

func TestBuildCounts(t *testing.T) {
	in := baseInput()
	for i := 0; i < 96; i++ {
		in.Records = append(in.Records, rec(i*100, i+1, 200, record.OK, int16(i%2)))
	}
	in.Records = append(in.Records,
		rec(9600, 200, 502, record.HTTPError, record.NoBackend),
		rec(9700, 300, 502, record.HTTPError, record.NoBackend),
		rec(9800, 400, 500, record.HTTPError, 0),
		rec(9900, 30000, 0, record.Timeout, record.NoBackend),
	)
	cpu := 2 * time.Second
	in.CPU = &cpu
	r := Build(in)
	if r.Requests != 100 || r.Successes != 96 || r.Failures != 4 {
		t.Fatalf("requests %d successes %d failures %d", r.Requests, r.Successes, r.Failures)
	}
	want := map[string]int{"http_502": 2, "http_500": 1, "timeout": 1}
	if !reflect.DeepEqual(r.FailuresByKind, want) {
		t.Errorf("failures by kind %v, want %v", r.FailuresByKind, want)
	}
	if r.Backends[0].Answered != 49 || r.Backends[0].Served != 48 || r.Backends[1].Answered != 48 || r.Untagged != 3 {
		t.Errorf("backends %+v untagged %d", r.Backends, r.Untagged)
	}
	if r.RPS != 10 || r.SuccessRPS != 9.6 {
		t.Errorf("rps %v success rps %v", r.RPS, r.SuccessRPS)
	}
	// Latencies 1..96 ms, 200, 300, 400, 30000: nearest rank.
	if r.Latency.P50 != 50 || r.Latency.P99 != 400 || r.Latency.Max != 30000 {
		t.Errorf("latency %+v", r.Latency)
	}
	if r.LBCPUMicrosPerRequest == nil || *r.LBCPUMicrosPerRequest != 20000 {
		t.Errorf("cpu per request %v", r.LBCPUMicrosPerRequest)
	}
	if len(r.Timeline.OK) != 100 || r.Timeline.OK[0] != 1 || r.Timeline.Failed[99] != 1 || r.Timeline.PerBackend[1][1] != 1 {
		t.Errorf("timeline %+v", r.Timeline)
	}
}

func TestDetectionFromResponses(t *testing.T) {
	in := baseInput()
	in.Faults = []record.Fault{{Backend: 0, Kind: "hang", At: 2 * time.Second, RestoredAt: 5 * time.Second}}
	in.Records = []record.Record{
		rec(1900, 1, 200, record.OK, 0),
		rec(2500, 2500, 200, record.OK, 0),                    // routed to the hung backend
		rec(2900, 5, 504, record.HTTPError, record.NoBackend), // failed, untagged: routed there too
		rec(3000, 1, 200, record.OK, 1),                       // another backend: not evidence
		rec(5600, 1, 200, record.OK, 0),                       // back after the restore
		rec(5300, 1, 200, record.OK, 1),
	}
	in.Events = []record.Event{{At: 2600 * ms1, Kind: record.EventLB, Backend: 0, From: "healthy", To: "unhealthy"},
		{At: 5400 * ms1, Kind: record.EventLB, Backend: 0, From: "unhealthy", To: "healthy"}}
	f := Build(in).Faults[0]
	if f.DetectionS == nil || *f.DetectionS != 0.9 || f.Evidence != "responses" || !f.Detected {
		t.Errorf("detection %v evidence %s detected %v", f.DetectionS, f.Evidence, f.Detected)
	}
	if f.RecoveryS == nil || *f.RecoveryS != 0.6 {
		t.Errorf("recovery %v", f.RecoveryS)
	}
	if f.RoutedInWindow != 2 || f.FailedInWindow != 1 {
		t.Errorf("routed %d failed %d in window", f.RoutedInWindow, f.FailedInWindow)
	}
	if f.LBDownS == nil || *f.LBDownS != 0.6 || f.LBUpS == nil || *f.LBUpS != 0.4 || f.LBTransitions != 2 {
		t.Errorf("LB down %v up %v transitions %d", f.LBDownS, f.LBUpS, f.LBTransitions)
	}
}

func TestDetectionFromCountersAndEvents(t *testing.T) {
	in := baseInput()
	in.Faults = []record.Fault{{Backend: 0, Kind: "kill", At: 2 * time.Second, RestoredAt: 5 * time.Second}}
	in.Records = []record.Record{rec(2100, 1, 200, record.OK, 1)}
	in.CounterPolling = true
	in.Routed = []record.Routed{{At: 2200 * ms1, Backend: 0}, {At: 2700 * ms1, Backend: 0}, {At: 3500 * ms1, Backend: 1}}
	f := Build(in).Faults[0]
	if f.DetectionS == nil || *f.DetectionS != 0.7 || f.Evidence != "lb_counters" {
		t.Errorf("counters: detection %v evidence %s", f.DetectionS, f.Evidence)
	}

	// No counters, a retrying LB (no failure): the LB's own event.
	in.CounterPolling, in.Routed = false, nil
	in.Events = []record.Event{{At: 3100 * ms1, Kind: record.EventLB, Backend: 0, To: "down"}}
	f = Build(in).Faults[0]
	if f.DetectionS == nil || *f.DetectionS != 1.1 || f.Evidence != "lb_events" {
		t.Errorf("events: detection %v evidence %s", f.DetectionS, f.Evidence)
	}

	// Nothing at all: not measurable.
	in.Events = nil
	f = Build(in).Faults[0]
	if f.DetectionS != nil || f.LastRoutedS != nil {
		t.Errorf("nothing seen: detection %v last routed %v", f.DetectionS, f.LastRoutedS)
	}
}

func TestNotDetected(t *testing.T) {
	in := baseInput()
	in.Faults = []record.Fault{{Backend: 0, Kind: "errors", At: 2 * time.Second, RestoredAt: 5 * time.Second}}
	for ms := 2000; ms < 5000; ms += 100 {
		in.Records = append(in.Records, rec(ms, 1, 500, record.HTTPError, 0))
	}
	f := Build(in).Faults[0]
	if f.Detected || f.DetectionS != nil || f.LastRoutedS == nil || *f.LastRoutedS != 2.9 {
		t.Errorf("detected %v detection %v last routed %v", f.Detected, f.DetectionS, f.LastRoutedS)
	}
	if f.RecoveryS != nil {
		t.Errorf("recovery %v without any answer after the restore", *f.RecoveryS)
	}
	var b bytes.Buffer
	WriteTable(&b, Build(in))
	if !strings.Contains(b.String(), "NOT DETECTED") {
		t.Errorf("table does not say the fault went undetected:\n%s", b.String())
	}
}

func TestHTMLIsSelfContained(t *testing.T) {
	in := baseInput()
	in.Faults = []record.Fault{{Backend: 0, Kind: "kill", At: 2 * time.Second, RestoredAt: 5 * time.Second}}
	in.Events = []record.Event{{At: 2 * time.Second, Kind: record.EventFault, Backend: 0}, {At: 2500 * ms1, Kind: record.EventLB, Backend: 0, From: "healthy", To: "unhealthy", Reason: "connection_refused"}}
	for ms := 0; ms < 10000; ms += 10 {
		in.Records = append(in.Records, rec(ms, 1+ms/1000, 200, record.OK, int16(ms/10%2)))
	}
	in.Records = append(in.Records, rec(2100, 3, 502, record.HTTPError, record.NoBackend))
	in.Config.LBConfig = `pool "x" { backend "127.0.0.1:1" {} }  # <script>alert(1)</script>`
	var b bytes.Buffer
	if err := WriteHTML(&b, Build(in)); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	problems, svgs := htmlcheck.Check(strings.NewReader(page))
	for _, p := range problems {
		t.Error(p)
	}
	if svgs != 3 {
		t.Errorf("%d charts, want 3", svgs)
	}
	for _, want := range []string{"connection_refused", "fault on b1", "<path d=\"M", "&lt;script&gt;"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "ZgotmplZ") {
		t.Errorf("the template refused a value (ZgotmplZ)")
	}
}

func TestWriteDirLoadCompare(t *testing.T) {
	in := baseInput()
	in.Records = []record.Record{rec(0, 1, 200, record.OK, 0), rec(100, 2, 503, record.HTTPError, record.NoBackend)}
	in.Faults = []record.Fault{{Backend: 1, Kind: "drain", At: time.Second, RestoredAt: 2 * time.Second, Exited: 1500 * ms1}}
	r := Build(in)
	dir := t.TempDir()
	if err := WriteDir(dir, r, in.Records); err != nil {
		t.Fatal(err)
	}
	back, err := Load(filepath.Join(dir, JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if back.Requests != 2 || back.FailuresByKind["http_503"] != 1 || back.Config.Duration != r.Config.Duration || len(back.Faults) != 1 {
		t.Errorf("round trip lost figures: %+v", back)
	}
	var b bytes.Buffer
	other := back
	other.Config.Target, other.Config.TargetCmd = "cmd", "haproxy -f x.cfg"
	if err := WriteCompare(&b, "a.json", back, "b.json", other); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a.json", "b.json", "haproxy -f x.cfg", "http_503 1", "fault 1", "drain b2"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("comparison lacks %q:\n%s", want, b.String())
		}
	}
}

// TestRescuedFromFaultedBackend: the lb's rescue count of the faulted
// backend reaches its fault figures and the table; a target that does
// not report one shows nothing.
func TestRescuedFromFaultedBackend(t *testing.T) {
	in := baseInput()
	in.Faults = []record.Fault{{Backend: 1, Kind: "hang", At: 2 * time.Second, RestoredAt: 5 * time.Second}}
	in.Records = []record.Record{rec(2100, 1, 200, record.OK, 0)}
	if f := Build(in).Faults[0]; f.Rescued != nil {
		t.Errorf("rescued %d without a count from the target", *f.Rescued)
	}
	n := uint64(17)
	in.Backends[1].Rescued = &n
	r := Build(in)
	if f := r.Faults[0]; f.Rescued == nil || *f.Rescued != 17 {
		t.Fatalf("rescued %v, want 17", f.Rescued)
	}
	var b strings.Builder
	if err := WriteTable(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "0 failed, 17 rescued from it by the LB") {
		t.Errorf("table:\n%s", b.String())
	}
}
