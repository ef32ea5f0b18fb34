package healthcheck

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// grpcProber calls grpc.health.v1.Health/Check (the gRPC Health Checking
// Protocol) with grpc-go's standard health client, in plaintext (HTTP/2
// without TLS) or, with Spec.TLS, over TLS.
//
// Unlike an HTTP probe, a gRPC probe keeps its connection: gRPC is built for
// long-lived HTTP/2 connections, and a backend should not see a connection
// opened and torn down every interval. Run opens one grpc.ClientConn (a
// grpcSession) for its lifetime and closes it before it returns; Probe,
// called on its own, uses a connection of its own for that one probe. The
// prober itself is read-only after construction and safe for concurrent
// use.
type grpcProber struct {
	target    string // host:port to dial
	authority string // the :authority of each call; "" means target
	service   string // the service to ask about; "" is the whole server
	interval  time.Duration
	timeout   time.Duration
	tls       *tls.Config // nil for plaintext
}

// newGRPCProber builds the prober for spec (defaults applied, validated)
// dialing target.
func newGRPCProber(spec Spec, target string) *grpcProber {
	return &grpcProber{
		target:    target,
		authority: spec.Host,
		service:   spec.GRPCService,
		interval:  spec.Interval,
		timeout:   spec.Timeout,
		tls:       probeTLSConfig(spec.TLS, target),
	}
}

// probe performs one probe over a connection opened for it and closed
// before it returns (Checker.Probe outside Run).
func (p *grpcProber) probe(ctx context.Context) Result {
	s := p.open(nil)
	defer s.close()
	return s.probe(ctx)
}

// open starts a session: probes that share one connection until close. It
// dials nothing yet; the first probe connects.
func (p *grpcProber) open(*probeBuffers) session { return &grpcSession{p: p} }

// grpcSession is the connection Run keeps across probes. Not safe for
// concurrent use: Run probes from one goroutine.
//
// Keeping a connection must not make a probe report the past. A gRPC
// channel whose connection attempt failed sits in TRANSIENT_FAILURE and
// fails every call at once with the error of its last attempt, while it
// waits out its reconnect backoff (gRPC's default grows to 120s); a
// restarted backend would stay hidden behind that backoff. So:
//
//   - a probe that finds the channel in TRANSIENT_FAILURE replaces it with
//     a fresh one, whose first attempt the probe waits for (bounded by the
//     timeout): the outcome is the backend as it is now, exactly like an HTTP
//     probe's fresh connection. A connection that works is kept as long as
//     it works.
//   - a probe that timed out or could not reach the backend (Unavailable)
//     drops the connection too (a hung server or a vanished host leaves it
//     in doubt, and grpc-go can fail a call before the channel's state
//     reads TRANSIENT_FAILURE); the next probe connects afresh.
//   - between probes, the backoff is bounded by the interval (base and cap
//     both one interval, ±20% jitter), so a failed channel tries again about
//     once per interval in the background and never waits longer; a connect
//     attempt gets at least the probe timeout (MinConnectTimeout), the
//     budget of the probe waiting for it.
type grpcSession struct {
	p      *grpcProber
	conn   *grpc.ClientConn // nil before the first probe and after drop
	client healthpb.HealthClient
	dials  *dialLog // of conn
}

// session is a prober that keeps state across probes; close releases it.
type session interface {
	prober
	close()
}

// opener is a prober whose probes share a connection: a running checker
// opens one session for its lifetime and closes it when it stops. The
// session may borrow read buffers from bufs while a probe reads.
type opener interface {
	open(bufs *probeBuffers) session
}

// probe performs one Health/Check call bounded by ctx and classifies it. It
// fills Outcome, Code, Status and Err; the caller sets At and Latency.
func (s *grpcSession) probe(ctx context.Context) Result {
	if s.conn != nil && s.conn.GetState() == connectivity.TransientFailure {
		s.drop()
	}
	if s.conn == nil {
		if err := s.connect(); err != nil {
			return Result{Outcome: OutcomeCheckError, Err: err}
		}
	}
	s.dials.forget()
	resp, err := s.client.Check(ctx, &healthpb.HealthCheckRequest{Service: s.p.service})
	if err != nil {
		res := classifyRPCError(ctx, err, s.dials.lastErr(), s.p.service)
		if res.Outcome == OutcomeTimeout || status.Code(err) == codes.Unavailable {
			// In doubt (timeout) or failed to connect: the next probe
			// connects afresh. Waiting to see TRANSIENT_FAILURE is not
			// enough: grpc-go may fail the call before the channel's
			// state says so.
			s.drop()
		}
		return res
	}
	return classifyServing(resp.GetStatus(), s.p.service)
}

// connect makes the session's channel. grpc.NewClient dials nothing: the
// first call connects (and a call waits while the channel connects, so a
// fresh channel's first attempt decides the probe).
func (s *grpcSession) connect() error {
	p, dials := s.p, &dialLog{}
	creds := insecure.NewCredentials()
	if p.tls != nil {
		creds = &recordingCreds{TransportCredentials: credentials.NewTLS(p.tls), log: dials}
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return dials.dial(ctx, p.target)
		}),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: backoff.Config{
				BaseDelay:  p.interval,
				Multiplier: 1.6,
				Jitter:     0.2,
				MaxDelay:   p.interval,
			},
			MinConnectTimeout: p.timeout,
		}),
		grpc.WithUserAgent(UserAgent),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxBodySize)),
	}
	if p.authority != "" {
		opts = append(opts, grpc.WithAuthority(p.authority))
	}
	// passthrough: the dialer gets the address as written and resolves it
	// per connection, as HTTP probes do, instead of gRPC's DNS resolver
	// (which polls in the background).
	conn, err := grpc.NewClient("passthrough:///"+p.target, opts...)
	if err != nil {
		return fmt.Errorf("grpc health: %w", err)
	}
	s.conn, s.client, s.dials = conn, healthpb.NewHealthClient(conn), dials
	return nil
}

// drop closes the channel, if any; the next probe makes a new one.
func (s *grpcSession) drop() {
	if s.conn == nil {
		return
	}
	_ = s.conn.Close()
	s.dials.wait()
	s.conn, s.client, s.dials = nil, nil, nil
}

// close ends the session: the channel is closed and no dial of it is still
// running. grpc-go's own goroutines of a closed channel (its connect loop
// returning from a cancelled backoff) end moments later on their own; none
// waits on the network.
func (s *grpcSession) close() { s.drop() }

// dialLog dials for one channel and remembers the outcome of its latest
// connection attempt, so that a call failing with Unavailable can be
// classified by what happened on the wire (connection refused, a connect
// timeout, ...) rather than by parsing gRPC's message. Safe for concurrent
// use: gRPC dials from its own goroutines.
type dialLog struct {
	mu      sync.Mutex
	err     error // of the latest dial since forget
	running sync.WaitGroup
}

// dial opens a TCP connection like every probe does and records the error.
func (l *dialLog) dial(ctx context.Context, address string) (net.Conn, error) {
	l.running.Add(1)
	defer l.running.Done()
	conn, err := dial(ctx, address)
	l.mu.Lock()
	l.err = err
	l.mu.Unlock()
	return conn, err
}

// record notes err (a failed TLS handshake after a good dial) as the
// outcome of the latest connection attempt.
func (l *dialLog) record(err error) {
	l.mu.Lock()
	l.err = err
	l.mu.Unlock()
}

// recordingCreds are TLS transport credentials that record a failed
// handshake in a dialLog, so the probe can say tls_error and why rather
// than gRPC's generic Unavailable.
type recordingCreds struct {
	credentials.TransportCredentials
	log *dialLog
}

// ClientHandshake runs the TLS handshake and records its error.
func (c *recordingCreds) ClientHandshake(ctx context.Context, authority string, conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	out, info, err := c.TransportCredentials.ClientHandshake(ctx, authority, conn)
	if err != nil {
		c.log.record(&handshakeError{err: err})
	}
	return out, info, err
}

// Clone keeps the recording.
func (c *recordingCreds) Clone() credentials.TransportCredentials {
	return &recordingCreds{TransportCredentials: c.TransportCredentials.Clone(), log: c.log}
}

// forget clears the recorded outcome: a probe only trusts dials made
// while it runs.
func (l *dialLog) forget() {
	l.mu.Lock()
	l.err = nil
	l.mu.Unlock()
}

// lastErr is the error of the latest dial since forget, nil if none failed.
func (l *dialLog) lastErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// wait returns once no dial is running (after the channel is closed, every
// dial's context is cancelled, so this is quick).
func (l *dialLog) wait() { l.running.Wait() }

// classifyServing turns a Health/Check answer into a probe outcome. Code is
// the grpc_health_v1 ServingStatus number (UNKNOWN 0, SERVING 1,
// NOT_SERVING 2, SERVICE_UNKNOWN 3) and Status its name, as the protocol
// spells it (the enum's String; a number this client does not know stays
// a number), so a transition's detail reads NOT_SERVING, never 2:
//
//   - SERVING: check_passed.
//   - NOT_SERVING: backend_draining, the backend asking to be taken out
//     (the pool drains it at once, like an HTTP shutting-down answer).
//   - anything else (UNKNOWN, SERVICE_UNKNOWN, a value this client does not
//     know): status_mismatch, a failure that counts toward
//     unhealthy_threshold; Err names the status.
func classifyServing(st healthpb.HealthCheckResponse_ServingStatus, service string) Result {
	code, name := int(st), st.String()
	switch st {
	case healthpb.HealthCheckResponse_SERVING:
		return Result{Outcome: OutcomeCheckPassed, Code: code, Status: name}
	case healthpb.HealthCheckResponse_NOT_SERVING:
		return Result{Outcome: OutcomeBackendDraining, Code: code, Status: name}
	}
	return Result{
		Outcome: OutcomeStatusMismatch,
		Code:    code,
		Status:  name,
		Err:     fmt.Errorf("grpc health: %s for %s", st, serviceName(service)),
	}
}

// classifyRPCError turns a failed Health/Check call into a probe outcome.
// dialErr is the error of the channel's latest connection attempt during
// this probe (nil if none failed).
//
//   - DeadlineExceeded (or ctx's deadline passed): timeout.
//   - NotFound: the backend does not know the service. The protocol answers
//     Check for an unknown service with this code (SERVICE_UNKNOWN is only
//     streamed by Watch), so it is reported as SERVICE_UNKNOWN:
//     status_mismatch with Code 3 and Status "SERVICE_UNKNOWN".
//   - Unavailable after a failed connection attempt: classified by the dial
//     error like any probe's (connection_refused, timeout, check_error for
//     DNS, ...), with the dial error as Err; without one, connection_refused
//     when gRPC's message says so.
//   - anything else (Unimplemented: no health service; Unavailable from an
//     HTTP/2 handshake that failed or from a proxy; Internal, ...):
//     check_error, with the gRPC code in Err.
func classifyRPCError(ctx context.Context, err, dialErr error, service string) Result {
	st := status.Convert(err)
	switch {
	case st.Code() == codes.DeadlineExceeded || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return Result{Outcome: OutcomeTimeout, Err: fmt.Errorf("grpc health: %w", err)}
	case st.Code() == codes.NotFound:
		return Result{
			Outcome: OutcomeStatusMismatch,
			Code:    int(healthpb.HealthCheckResponse_SERVICE_UNKNOWN),
			Status:  healthpb.HealthCheckResponse_SERVICE_UNKNOWN.String(),
			Err: fmt.Errorf("grpc health: %s: the backend does not know %s (%w)",
				healthpb.HealthCheckResponse_SERVICE_UNKNOWN, serviceName(service), err),
		}
	case st.Code() == codes.Unavailable && isHandshakeError(dialErr):
		res := classifyHandshake(dialErr)
		res.Err = fmt.Errorf("grpc health: %w", dialErr)
		return res
	case st.Code() == codes.Unavailable && dialErr != nil:
		return Result{Outcome: classifyError(dialErr), Err: fmt.Errorf("grpc health: %w", dialErr)}
	case st.Code() == codes.Unavailable && strings.Contains(st.Message(), "connection refused"):
		return Result{Outcome: OutcomeConnectionRefused, Err: fmt.Errorf("grpc health: %w", err)}
	}
	return Result{Outcome: OutcomeCheckError, Err: fmt.Errorf("grpc health: %w", err)}
}

// serviceName names the checked service for an error message.
func serviceName(service string) string {
	if service == "" {
		return `the whole server (service "")`
	}
	return fmt.Sprintf("service %q", service)
}
