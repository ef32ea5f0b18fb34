package fleet

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/lbtrust/lb/internal/backoff"
	"github.com/lbtrust/lb/internal/etcdclient"
)

// Defaults and fixed timings of a Membership.
const (
	// DefaultTTL is Config.TTL when it is 0: how long a member that stops
	// keeping its lease alive stays in the others' view.
	DefaultTTL = 5 * time.Second
	// DefaultDialTimeout is Config.DialTimeout when it is 0.
	DefaultDialTimeout = 5 * time.Second
	// RequestTimeout bounds each request of a session (grant, put, read).
	RequestTimeout = 5 * time.Second
	// RevokeTimeout bounds the revocation of the lease when a Membership
	// stops, so an unreachable etcd delays a shutdown by at most this
	// (the lease then expires after its TTL).
	RevokeTimeout = time.Second
	// MinBackoff is the delay before starting over after the first
	// failure in a row.
	MinBackoff = 200 * time.Millisecond
	// MaxBackoff caps that delay, however many failures in a row.
	MaxBackoff = 10 * time.Second
)

// Config says where the fleet lives and who this instance is.
type Config struct {
	// Endpoints are the etcd members, "host:port" or URLs; at least one.
	Endpoints []string
	// Prefix is the fleet's key prefix (e.g. "/lb/fleet/prod/"); not
	// empty. Members are under Prefix + "members/".
	Prefix string
	// Name is this instance's member name: not empty, no "/". Two live
	// instances must not share a name.
	Name string
	// TTL is the member key's lease time to live, whole seconds of at
	// least 1s (etcd may raise it to its own minimum); 0 means DefaultTTL.
	TTL time.Duration
	// Username and Password authenticate to etcd; both empty for none.
	Username string
	Password string
	// TLS, when not nil, is the connection's TLS config; nil is plain TCP.
	TLS *tls.Config
	// DialTimeout bounds connecting to etcd; 0 means DefaultDialTimeout.
	DialTimeout time.Duration
	// Listener, when not nil, hears of other members' verdicts and of
	// drains as they change (see Listener).
	Listener Listener
}

// ErrNotConnected is the error of Drain and Undrain while this instance
// is not connected to etcd.
var ErrNotConnected = errors.New("fleet: not connected to etcd")

// Membership is this instance's place in the fleet: its own member key,
// kept alive, and the live member set, watched (see the package doc).
// Its methods are safe for concurrent use.
type Membership struct {
	cfg     Config
	log     *zap.Logger
	key     string // this instance's member key
	changed chan struct{}
	done    chan struct{}
	started atomic.Bool
	conn    atomic.Bool
	cli     atomic.Pointer[clientv3.Client] // the current client; nil before the first
	wake    chan struct{}                   // the writer's signal: pending writes
	writes  atomic.Uint64                   // verdict puts and deletes made
	events  atomic.Uint64                   // watch events received

	mu      sync.Mutex
	members []string // sorted; never empty: holds Name at least
	others  view     // other members' verdicts and the drains, as read and watched
	mine    map[Target]Verdict
	pending map[Target]bool // targets whose own verdict (or its withdrawal) etcd has yet to get

	// onSet, when not nil, is called with every member set the
	// Membership takes (a test's hook), from its goroutine.
	onSet func(members []string, connected bool)
	// afterRead, when not nil, is called after each successful read with
	// its revision, before the watch starts (a test's hook).
	afterRead func(rev int64)
}

// New checks cfg and returns a Membership for it. It does not connect:
// Start does. A nil log logs nothing.
func New(cfg Config, log *zap.Logger) (*Membership, error) {
	errs := cfg.client().Check()
	if cfg.Prefix == "" {
		errs = append(errs, errors.New("empty prefix"))
	}
	if cfg.Name == "" {
		errs = append(errs, errors.New("empty member name"))
	}
	if strings.Contains(cfg.Name, "/") {
		errs = append(errs, fmt.Errorf("member name %q: must not contain /", cfg.Name))
	}
	if cfg.TTL < 0 || (cfg.TTL > 0 && (cfg.TTL < time.Second || cfg.TTL%time.Second != 0)) {
		errs = append(errs, fmt.Errorf("ttl %s: must be whole seconds, at least 1s", cfg.TTL))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if log == nil {
		log = zap.NewNop()
	}
	cfg.Endpoints = slices.Clone(cfg.Endpoints)
	dir := cfg.Prefix + membersDir
	return &Membership{
		cfg:     cfg,
		log:     log.With(zap.String("fleet", cfg.Prefix), zap.String("member", cfg.Name)),
		key:     dir + cfg.Name,
		changed: make(chan struct{}, 1),
		done:    make(chan struct{}),
		wake:    make(chan struct{}, 1),
		members: []string{cfg.Name},
		others:  newView(),
		mine:    map[Target]Verdict{},
		pending: map[Target]bool{},
	}, nil
}

// Start registers this instance and follows the member set on a
// goroutine of its own until ctx ends; it returns at once. When ctx ends
// the member key's lease is revoked (bounded by RevokeTimeout), so the
// others see this instance leave at once, and Done is closed once
// nothing Start started is running. Start may be called once; a second
// call panics.
func (m *Membership) Start(ctx context.Context) {
	if !m.started.CompareAndSwap(false, true) {
		panic("fleet: Membership.Start called twice")
	}
	go m.run(ctx)
}

// Done is closed when the goroutine of Start has ended, after its
// context ended.
func (m *Membership) Done() <-chan struct{} { return m.done }

// Name is this instance's member name.
func (m *Membership) Name() string { return m.cfg.Name }

// Prefix is the fleet's key prefix.
func (m *Membership) Prefix() string { return m.cfg.Prefix }

// TTL is the member key's lease time to live, after defaults.
func (m *Membership) TTL() time.Duration { return m.cfg.TTL }

// Members returns the live member set in a new slice, sorted, holding
// this instance's own name always; just that name while not Connected.
func (m *Membership) Members() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.members)
}

// Connected reports whether this instance is registered and its view of
// the member set is current: false before the first successful read,
// and from a failure until the next successful read.
func (m *Membership) Connected() bool { return m.conn.Load() }

// Changed receives a value after Members or Connected changed. It holds
// at most one pending value (changes between two receives coalesce), so
// a receiver reads Members and Connected after each receive. Never
// closed.
func (m *Membership) Changed() <-chan struct{} { return m.changed }

// set records a new view and signals Changed when it differs from the
// last one. members must hold Name.
func (m *Membership) set(members []string, connected bool) {
	m.mu.Lock()
	same := slices.Equal(m.members, members) && m.conn.Load() == connected
	m.members = members
	m.conn.Store(connected)
	m.mu.Unlock()
	if m.onSet != nil {
		m.onSet(slices.Clone(members), connected)
	}
	if same {
		return
	}
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

// run is Start's goroutine: sessions, with a backoff between them.
func (m *Membership) run(ctx context.Context) {
	defer close(m.done)
	var (
		b      = backoff.Backoff{Min: MinBackoff, Max: MaxBackoff}
		cli    *clientv3.Client
		failed bool
	)
	defer func() {
		if cli != nil {
			cli.Close()
		}
	}()
	for ctx.Err() == nil {
		var err error
		if cli == nil {
			if cli, err = m.connect(); err == nil {
				m.cli.Store(cli)
			}
		}
		if err == nil {
			var ok bool
			ok, err = m.session(ctx, cli, failed)
			if ok {
				b.Reset()
			}
		}
		m.set([]string{m.cfg.Name}, false)
		if ctx.Err() != nil {
			return
		}
		failed = true
		d := b.Delay()
		m.log.Warn("fleet membership lost etcd; this instance counts as the whole fleet until it is back", zap.Error(err), zap.Duration("retry_in", d))
		if !backoff.Sleep(ctx, d) {
			return
		}
	}
}

// connect makes the client.
func (m *Membership) connect() (*clientv3.Client, error) {
	return etcdclient.New(m.cfg.client(), m.log)
}

// client is the connection part of cfg.
func (cfg Config) client() etcdclient.Config {
	return etcdclient.Config{
		Endpoints: cfg.Endpoints, Username: cfg.Username, Password: cfg.Password,
		TLS: cfg.TLS, DialTimeout: cfg.DialTimeout,
	}
}
