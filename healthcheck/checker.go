package healthcheck

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"
)

// Reporter receives every probe result of a running Checker, in probe order,
// from the Checker's goroutine. It is all a Checker knows of whoever acts on
// its results (the server adapts it to the backend's state machine and the
// metrics). ObserveCheck must not block for long: the next probe waits for
// it to return. It is never called for a probe abandoned because Run's
// context ended.
type Reporter interface {
	ObserveCheck(Result)
}

// ErrCanceled is the Err of a probe whose context was canceled before it got
// an answer (Outcome OutcomeCheckError). It says nothing about the
// backend: do not count it. Run never reports such a probe.
var ErrCanceled = errors.New("healthcheck: probe canceled before it finished")

// prober performs one probe bounded by ctx and fills Outcome, Code, Status
// and Err.
type prober interface {
	probe(ctx context.Context) Result
}

// deadlineProber is a prober that takes its deadline apart from ctx, so a
// probe needs no context of its own (ctx is then the run's, the same for
// every probe).
type deadlineProber interface {
	probeUntil(ctx context.Context, deadline time.Time) Result
}

// Checker probes one backend. It only observes and reports: no thresholds,
// no state. A Checker is immutable after New and safe for concurrent use;
// Probe may be called while Run is running (a "check now"). Calling Run
// more than once concurrently probes the backend once per Run.
type Checker struct {
	spec    *Spec  // defaults applied; its Template's, shared
	address string // the backend, as given to New
	prober  prober
	rep     Reporter
	log     *zap.Logger
}

// Template is a validated Spec with its defaults applied, from which the
// checkers of many backends are made (a pool's): they share it, so a
// checker holds no copy of the spec. Immutable; safe for concurrent use.
type Template struct {
	spec Spec
}

// NewTemplate validates spec and returns a template of checkers probing
// as it says. Every problem with spec is reported in one error wrapping
// ErrInvalidSpec.
func NewTemplate(spec Spec) (*Template, error) {
	t := &Template{spec: spec.withDefaults()}
	if err := t.spec.validate(); err != nil {
		return nil, err
	}
	return t, nil
}

// New returns a checker of the backend at address with t's spec, as the
// package's New does with that spec; only address, rep and log can be
// wrong now.
func (t *Template) New(address string, rep Reporter, log *zap.Logger) (*Checker, error) {
	return t.newChecker(address, rep, log, nil)
}

// Spec returns the template's spec with every default applied.
func (t *Template) Spec() Spec {
	s := t.spec
	s.ExpectedStatus = slices.Clone(s.ExpectedStatus)
	return s
}

// New validates spec and returns a checker for the backend at address
// ("host:port"; spec.Port, if set, replaces the port for probes). Every
// problem with spec or address is reported in one error wrapping
// ErrInvalidSpec. rep must not be nil; a nil log means no logging. New does
// not probe and starts nothing. Checkers of many backends with one spec
// are smaller made from one Template.
func New(spec Spec, address string, rep Reporter, log *zap.Logger) (*Checker, error) {
	t := &Template{spec: spec.withDefaults()}
	return t.newChecker(address, rep, log, t.spec.validate())
}

// newChecker is Template.New, reporting specErr (the spec's problems)
// with the others.
func (t *Template) newChecker(address string, rep Reporter, log *zap.Logger, specErr error) (*Checker, error) {
	spec := &t.spec
	errs := []error{specErr}
	if rep == nil {
		errs = append(errs, fmt.Errorf("%w: nil Reporter", ErrInvalidSpec))
	}
	target, err := dialAddress(address, spec.Port)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	c := &Checker{
		spec:    spec,
		address: address,
		rep:     rep,
		log:     log, // backend and check are added per line: With would keep an encoder per checker
	}
	switch spec.Type {
	case TypeTCP:
		c.prober = &tcpProber{address: target}
	case TypeGRPC:
		c.prober = newGRPCProber(*spec, target)
	default:
		c.prober = newHTTPProber(spec, target)
		if spec.FreshConnection {
			c.prober = freshHTTP{c.prober.(*httpProber)}
		}
	}
	return c, nil
}

// Address returns the backend address given to New.
func (c *Checker) Address() string { return c.address }

// Spec returns the checker's spec with every default applied.
func (c *Checker) Spec() Spec {
	s := *c.spec
	s.ExpectedStatus = slices.Clone(s.ExpectedStatus)
	return s
}

// Probe performs one probe now, bounded by the spec's Timeout and by ctx,
// and returns its classified result with At (start) and Latency set. It
// does not call the Reporter and does not log. If ctx is canceled before an
// answer arrives, the result has Outcome OutcomeCheckError and an Err
// wrapping both ErrCanceled and ctx's cause; if ctx's own deadline passes first, the outcome is
// OutcomeTimeout. When Probe returns, its connection is closed and
// nothing it started is still running.
func (c *Checker) Probe(ctx context.Context) Result {
	return c.probe(ctx, c.prober)
}

// probe is Probe with the given prober (Run's session, or c.prober).
func (c *Checker) probe(ctx context.Context, p prober) Result {
	at := time.Now()
	var res Result
	if dp, ok := p.(deadlineProber); ok {
		res = dp.probeUntil(ctx, at.Add(c.spec.Timeout))
	} else {
		pctx, cancel := context.WithTimeout(ctx, c.spec.Timeout)
		res = p.probe(pctx)
		cancel()
	}
	res.At = at
	res.Latency = time.Since(at)
	if res.Err != nil && errors.Is(ctx.Err(), context.Canceled) {
		res.Outcome = OutcomeCheckError
		res.Err = fmt.Errorf("%w: %w", ErrCanceled, context.Cause(ctx))
	}
	return res
}

// Run probes until ctx is done, reporting every result to the Reporter:
// the first probe at once, then one every Interval, each exactly one
// Interval after the previous one started (a probe that overran its slot,
// which Timeout < Interval rules out, waits for the next). Probes never
// overlap. A probe in progress when ctx ends is abandoned (its connection
// is woken and closed) and not reported. Run returns once that is done,
// leaving no goroutine or connection behind. It logs each probe at debug
// level and nothing above. Run is Start on a Group of its own; a Group
// runs many checkers without a goroutine each.
//
// HTTP probes reuse one kept-alive connection for the whole Run (see
// httpSession); a gRPC check keeps one connection too (opened by the first
// probe, replaced when it fails or times out, closed before Run returns;
// grpc-go's own goroutines of the closed connection end moments later,
// none waiting on the network). A Probe call meanwhile uses a connection
// of its own.
func (c *Checker) Run(ctx context.Context) {
	var g Group
	g.Start(c)
	<-ctx.Done()
	g.Stop()
}

// logResult writes the debug line of one probe; free when debug is off.
func (c *Checker) logResult(res Result) {
	ce := c.log.Check(zap.DebugLevel, "health check probe")
	if ce == nil {
		return
	}
	fields := []zap.Field{
		zap.String("backend", c.address),
		zap.String("check", c.spec.Type),
		zap.String("outcome", string(res.Outcome)),
		zap.Duration("latency", res.Latency),
	}
	if res.Code != 0 {
		fields = append(fields, zap.Int("code", res.Code))
	}
	if res.Err != nil {
		fields = append(fields, zap.Error(res.Err))
	}
	ce.Write(fields...)
}
