package healthcheck

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/internal/grpchealthtest"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

// grpcService is the service name the test backends register.
const grpcService = "lb.test.Echo"

// grpcBackend is a real grpc-go health server on loopback
// (grpchealthtest.Backend).
type grpcBackend = grpchealthtest.Backend

// newGRPCBackend starts a backend on 127.0.0.1:0 whose whole server and
// grpcService are SERVING. Test cleanup stops it.
func newGRPCBackend(t *testing.T) *grpcBackend { return grpchealthtest.Start(t, grpcService) }

// grpcSpec is a gRPC check of service with a timeout far longer than a
// loopback call, even on a loaded machine.
func grpcSpec(service string) Spec {
	return Spec{Type: TypeGRPC, GRPCService: service, Interval: 20 * time.Second, Timeout: 10 * time.Second}
}

// TestGRPCProbe: one probe per case against a real grpc-go health server;
// the outcome, code, status and error are exactly as documented, and the
// detail names the serving status as the protocol does (NOT_SERVING, not
// its number), or is the error that names it.
func TestGRPCProbe(t *testing.T) {
	b := newGRPCBackend(t)
	b.Set("lb.test.Down", healthpb.HealthCheckResponse_NOT_SERVING)
	b.Set("lb.test.Unknown", healthpb.HealthCheckResponse_UNKNOWN)
	b.Set("lb.test.ServiceUnknown", healthpb.HealthCheckResponse_SERVICE_UNKNOWN)

	tests := []struct {
		name    string
		service string
		want    Outcome
		code    int
		status  string
		errHas  string // "" means Err must be nil
		detail  string // when Err is nil; otherwise the detail is Err's text
	}{
		{"whole server serving", "", OutcomeCheckPassed, 1, "SERVING", "", ""},
		{"service serving", grpcService, OutcomeCheckPassed, 1, "SERVING", "", ""},
		{"not serving drains", "lb.test.Down", OutcomeBackendDraining, 2, "NOT_SERVING", "", "NOT_SERVING"},
		{"unknown status", "lb.test.Unknown", OutcomeStatusMismatch, 0, "UNKNOWN", "grpc health: UNKNOWN", ""},
		{"service unknown status", "lb.test.ServiceUnknown", OutcomeStatusMismatch, 3, "SERVICE_UNKNOWN", "grpc health: SERVICE_UNKNOWN", ""},
		{"service the server does not know", "lb.test.Nope", OutcomeStatusMismatch, 3, "SERVICE_UNKNOWN", `SERVICE_UNKNOWN: the backend does not know service "lb.test.Nope"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := probe(t, grpcSpec(tt.service), b.Addr())
			if res.Outcome != tt.want || res.Code != tt.code || res.Status != tt.status {
				t.Fatalf("got %s code=%d status=%q err=%v, want %s code=%d status=%q",
					res.Outcome, res.Code, res.Status, res.Err, tt.want, tt.code, tt.status)
			}
			switch {
			case tt.errHas == "" && res.Err != nil:
				t.Fatalf("err = %v, want none", res.Err)
			case tt.errHas != "" && (res.Err == nil || !strings.Contains(res.Err.Error(), tt.errHas)):
				t.Fatalf("err = %v, want it to contain %q", res.Err, tt.errHas)
			}
			wantDetail := tt.detail
			if res.Err != nil {
				wantDetail = res.Err.Error()
			}
			if got := res.Detail(); got != wantDetail {
				t.Fatalf("Detail() = %q, want %q", got, wantDetail)
			}
			if res.At.IsZero() || res.Latency <= 0 {
				t.Fatalf("At %v Latency %v not set", res.At, res.Latency)
			}
		})
	}

	t.Run("stopped server", func(t *testing.T) {
		res := probe(t, grpcSpec(""), closedAddr(t))
		if res.Outcome != OutcomeConnectionRefused || !errors.Is(res.Err, syscall.ECONNREFUSED) {
			t.Fatalf("got %s %v, want connection_refused wrapping ECONNREFUSED", res.Outcome, res.Err)
		}
	})
	t.Run("port override", func(t *testing.T) {
		s := grpcSpec(grpcService)
		s.Port = b.Port()
		if res := probe(t, s, closedAddr(t)); !res.Passed() {
			t.Fatalf("got %s %v, want check_passed via the port override", res.Outcome, res.Err)
		}
	})
	t.Run("authority from host", func(t *testing.T) {
		var got atomic.Value
		srv := grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			if md, ok := metadataAuthority(ctx); ok {
				got.Store(md)
			}
			return h(ctx, req)
		}))
		healthpb.RegisterHealthServer(srv, health.NewServer())
		addr := serveGRPC(t, srv)
		s := grpcSpec("")
		s.Host = "health.internal"
		if res := probe(t, s, addr); !res.Passed() {
			t.Fatalf("got %s %v", res.Outcome, res.Err)
		}
		if got.Load() != "health.internal" {
			t.Fatalf(":authority = %v, want health.internal", got.Load())
		}
	})
	t.Run("http fields ignored", func(t *testing.T) {
		s := grpcSpec("")
		s.Path = "not validated for grpc"
		s.ExpectedStatus = []config.StatusRange{{Min: 0, Max: 0}}
		if res := probe(t, s, b.Addr()); !res.Passed() {
			t.Fatalf("got %s %v", res.Outcome, res.Err)
		}
	})
}

// TestGRPCProbeErrors: call failures other than a serving status.
func TestGRPCProbeErrors(t *testing.T) {
	t.Run("no health service", func(t *testing.T) {
		addr := serveGRPC(t, grpc.NewServer())
		res := probe(t, grpcSpec(""), addr)
		if res.Outcome != OutcomeCheckError || res.Err == nil || !strings.Contains(res.Err.Error(), "Unimplemented") {
			t.Fatalf("got %s %v, want check_error naming Unimplemented", res.Outcome, res.Err)
		}
	})
	t.Run("not a grpc server", func(t *testing.T) {
		srv := statusServer(t, 200, "ok")
		res := probe(t, grpcSpec(""), hostPort(srv))
		if res.Outcome != OutcomeCheckError || res.Err == nil || !strings.Contains(res.Err.Error(), "Unavailable") {
			t.Fatalf("got %s %v, want check_error naming Unavailable", res.Outcome, res.Err)
		}
	})
	t.Run("silent server times out", func(t *testing.T) {
		srv := newRawServer(t, drain)
		s := Spec{Type: TypeGRPC, Interval: time.Second, Timeout: 300 * time.Millisecond}
		res := probe(t, s, srv.addr)
		if res.Outcome != OutcomeTimeout || res.Err == nil {
			t.Fatalf("got %s %v, want timeout", res.Outcome, res.Err)
		}
		if res.Latency > 5*time.Second {
			t.Fatalf("latency %v: the timeout is 300ms", res.Latency)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		srv := newRawServer(t, drain)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		res := newChecker(t, grpcSpec(""), srv.addr, nil).Probe(ctx)
		if res.Outcome != OutcomeCheckError || !errors.Is(res.Err, ErrCanceled) {
			t.Fatalf("got %s %v, want check_error wrapping ErrCanceled", res.Outcome, res.Err)
		}
	})
}

// TestGRPCRunFlips: one Run against a backend that flips its status after
// each report: SERVING -> NOT_SERVING -> SERVING -> UNKNOWN -> SERVING, then
// stops (killed), then starts again on the same port. Each report is
// exactly the documented outcome, in order; the first five share one
// connection, and the restarted backend passes at the very next probe.
func TestGRPCRunFlips(t *testing.T) {
	b := newGRPCBackend(t)
	const (
		serving    = healthpb.HealthCheckResponse_SERVING
		notServing = healthpb.HealthCheckResponse_NOT_SERVING
		unknown    = healthpb.HealthCheckResponse_UNKNOWN
	)
	// after[i] runs after report i, before probe i+1.
	after := []func(){
		func() { b.Set(grpcService, notServing) },
		func() { b.Set(grpcService, serving) },
		func() { b.Set(grpcService, unknown) },
		func() { b.Set(grpcService, serving) },
		func() {
			if n := b.Opened.Load(); n != 1 {
				t.Errorf("%d connections for 5 probes, want 1 kept for the whole Run", n)
			}
			b.Stop()
		},
		b.Start,
	}
	want := []struct {
		outcome Outcome
		code    int
	}{
		{OutcomeCheckPassed, 1},
		{OutcomeBackendDraining, 2},
		{OutcomeCheckPassed, 1},
		{OutcomeStatusMismatch, 0},
		{OutcomeCheckPassed, 1},
		{OutcomeConnectionRefused, 0},
		{OutcomeCheckPassed, 1},
	}
	rec := &recorder{}
	rep := reporterFunc(func(res Result) {
		rec.ObserveCheck(res)
		if i := rec.len() - 1; i < len(after) {
			after[i]()
		}
	})
	c := newChecker(t, Spec{Type: TypeGRPC, GRPCService: grpcService, Interval: time.Second, Timeout: 900 * time.Millisecond}, b.Addr(), rep)
	stop := run(t, c)
	got := rec.waitFor(t, len(want))
	stop()
	for i, w := range want {
		if got[i].Outcome != w.outcome || got[i].Code != w.code {
			t.Errorf("report %d: got %s code=%d (err %v), want %s code=%d", i, got[i].Outcome, got[i].Code, got[i].Err, w.outcome, w.code)
		}
	}
	eventually(t, "Run's connection to be closed", func() bool { return b.Opened.Load() == b.Closed.Load() })
}

// TestGRPCRestartNotHiddenByBackoff: a probe right after the backend comes
// back passes, although the channel failed a moment ago and a 1-minute
// interval allows a backoff that long: a failed channel is replaced, not
// trusted.
func TestGRPCRestartNotHiddenByBackoff(t *testing.T) {
	b := newGRPCBackend(t)
	b.Stop()
	p := newGRPCProber(Spec{Type: TypeGRPC, Interval: time.Minute, Timeout: 10 * time.Second}, b.Addr())
	s := p.open(nil)
	defer s.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if res := s.probe(ctx); res.Outcome != OutcomeConnectionRefused {
		t.Fatalf("backend down: got %s %v, want connection_refused", res.Outcome, res.Err)
	}
	b.Start()
	if res := s.probe(ctx); !res.Passed() {
		t.Fatalf("backend back: got %s %v, want check_passed at once", res.Outcome, res.Err)
	}
	if res := s.probe(ctx); !res.Passed() || b.Opened.Load() != 1 {
		t.Fatalf("got %s %v over %d connections, want check_passed on the kept one", res.Outcome, res.Err, b.Opened.Load())
	}
}

// TestGRPCTimeoutDropsConnection: after a timed-out call the next probe
// connects afresh instead of queueing behind a connection in doubt.
func TestGRPCTimeoutDropsConnection(t *testing.T) {
	var slow atomic.Bool
	srv := grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if slow.Load() {
			<-ctx.Done() // past the caller's deadline: it gave up
			return nil, ctx.Err()
		}
		return h(ctx, req)
	}))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	var opened atomic.Int64
	addr := serveGRPCCounting(t, srv, &opened)
	p := newGRPCProber(Spec{Type: TypeGRPC, Interval: time.Minute, Timeout: 200 * time.Millisecond}, addr)
	s := p.open(nil)
	defer s.close()
	probeOnce := func() Result {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		return s.probe(ctx)
	}
	if res := probeOnce(); !res.Passed() {
		t.Fatalf("got %s %v", res.Outcome, res.Err)
	}
	slow.Store(true)
	if res := probeOnce(); res.Outcome != OutcomeTimeout {
		t.Fatalf("got %s %v, want timeout", res.Outcome, res.Err)
	}
	slow.Store(false)
	if res := probeOnce(); !res.Passed() {
		t.Fatalf("got %s %v", res.Outcome, res.Err)
	}
	if n := opened.Load(); n != 2 {
		t.Fatalf("%d connections, want 2: the timed-out one is replaced", n)
	}
}

// TestGRPCRunLeavesNothing: once Run and the backend are stopped, no
// goroutine of either is left (the package's TestMain checks the same for
// every test; this pins it to the gRPC checker).
func TestGRPCRunLeavesNothing(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	func() {
		b := newGRPCBackend(t)
		rec := &recorder{}
		c := newChecker(t, Spec{Type: TypeGRPC, Interval: 100 * time.Millisecond, Timeout: 90 * time.Millisecond}, b.Addr(), rec)
		stop := run(t, c)
		rec.waitFor(t, 3)
		if took := stop(); took > 5*time.Second {
			t.Fatalf("Run took %v to return", took)
		}
		eventually(t, "the connection to be closed", func() bool { return b.Opened.Load() == b.Closed.Load() })
		b.Stop()
	}()
	goleak.VerifyNone(t, ignore)
}

// reporterFunc adapts a function to Reporter.
type reporterFunc func(Result)

func (f reporterFunc) ObserveCheck(r Result) { f(r) }

// serveGRPC serves srv on 127.0.0.1:0 until the test ends.
func serveGRPC(t *testing.T, srv *grpc.Server) string {
	t.Helper()
	var n atomic.Int64
	return serveGRPCCounting(t, srv, &n)
}

// serveGRPCCounting is serveGRPC counting accepted connections in opened.
func serveGRPCCounting(t *testing.T, srv *grpc.Server, opened *atomic.Int64) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(&openCounter{Listener: ln, n: opened})
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return ln.Addr().String()
}

type openCounter struct {
	net.Listener
	n *atomic.Int64
}

func (l *openCounter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// metadataAuthority returns the :authority of the incoming call.
func metadataAuthority(ctx context.Context) (string, bool) {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok || len(md[":authority"]) == 0 {
		return "", false
	}
	return md[":authority"][0], true
}

// TestGRPCSpec: a gRPC spec keeps its service and gets no HTTP defaults;
// its service and :authority are validated.
func TestGRPCSpec(t *testing.T) {
	c := newChecker(t, Spec{Type: TypeGRPC, GRPCService: "mypackage.MyService", Host: "h.internal"}, "10.0.0.1:9090", nil)
	got := c.Spec()
	if got.GRPCService != "mypackage.MyService" || got.Host != "h.internal" || got.Path != "" || got.ExpectedStatus != nil ||
		got.Interval != DefaultInterval || got.Timeout != DefaultTimeout {
		t.Fatalf("Spec() = %+v", got)
	}
	for _, tt := range []struct {
		name string
		spec Spec
		want string
	}{
		{"service not UTF-8", Spec{Type: TypeGRPC, GRPCService: "a\xffb"}, "grpc service"},
		{"authority injection", Spec{Type: TypeGRPC, Host: "a\r\nb"}, "host"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.spec, "h:1", &recorder{}, nil)
			if !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v: want ErrInvalidSpec mentioning %q", err, tt.want)
			}
		})
	}
}
