package healthcheck

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lbtrust/lb/config"
)

// Probe types accepted in Spec.Type.
const (
	// TypeHTTP probes with an HTTP GET; the default.
	TypeHTTP = "http"
	// TypeTCP only checks that a TCP connection can be opened.
	TypeTCP = "tcp"
	// TypeGRPC calls grpc.health.v1.Health/Check (the gRPC Health Checking
	// Protocol), in plaintext or over TLS (Spec.TLS), over a connection kept
	// for Run's lifetime.
	TypeGRPC = "grpc"
)

// Defaults applied by New to zero fields of a Spec. They equal the
// defaults of the configuration's health_check block
// (config.DefaultHealthCheckPath, DefaultInterval, DefaultTimeout and
// DefaultExpectedStatus; Type "" is TypeHTTP, config's
// DefaultHealthCheckType); server's TestRuntimeDefaultsMatchConfig holds
// them to it.
const (
	// DefaultPath is the HTTP request path when Spec.Path is "".
	DefaultPath = "/readyz"
	// DefaultInterval is the time between probe starts when Spec.Interval is 0.
	DefaultInterval = 10 * time.Second
	// DefaultTimeout bounds a probe when Spec.Timeout is 0. It must still be
	// shorter than the interval, so a Spec with a sub-5s Interval must set
	// Timeout explicitly.
	DefaultTimeout = 5 * time.Second
	// DefaultStatus is the expected HTTP status when Spec.ExpectedStatus is
	// empty.
	DefaultStatus = 200
)

// ErrInvalidSpec is wrapped by every error New returns for a bad Spec or
// address. It is a configuration mistake: fix the input, retrying will not
// help.
var ErrInvalidSpec = errors.New("healthcheck: invalid spec")

// Spec describes one health check. The zero value of every field selects its
// default (see the Default constants); New validates it and keeps a copy, so
// a Spec may be reused or modified after New returns.
type Spec struct {
	// Type is TypeHTTP, TypeTCP or TypeGRPC; "" means TypeHTTP.
	Type string
	// Path is the HTTP request target, sent verbatim: it must start with "/"
	// and may carry a query ("/readyz?full=1"). "" means DefaultPath.
	// Ignored by TCP and gRPC checks.
	Path string
	// Host is the HTTP Host header, or the :authority of a gRPC call. ""
	// means the address that is dialed ("10.0.0.1:8000", with the Port
	// override applied). Ignored by TCP checks.
	Host string
	// GRPCService is the service name a gRPC check asks about
	// ("mypackage.MyService"); "" asks about the whole server, as the
	// protocol defines. Ignored by HTTP and TCP checks.
	GRPCService string
	// FreshConnection makes a running checker open a new connection for
	// every HTTP probe, as Probe always does, instead of reusing one
	// kept-alive connection (see httpSession). Ignored by TCP checks
	// (always fresh) and gRPC checks (always kept).
	FreshConnection bool
	// Port, when not 0, replaces the port of the backend's address for the
	// probe (a separate health port). 0 means the backend's own port.
	Port int
	// Interval is the time between the starts of two probes, before jitter
	// (see Checker.Run). 0 means DefaultInterval. Sub-second values work.
	Interval time.Duration
	// Timeout bounds a whole probe: connect, send, and read the complete
	// answer. 0 means DefaultTimeout. It must be shorter than Interval.
	Timeout time.Duration
	// ExpectedStatus lists the HTTP statuses that make a probe pass: a status
	// inside any of the ranges (config's type, so a health_check block's
	// parsed expected_status is used as it is). Empty means exactly
	// DefaultStatus. Each range must lie in config.MinStatus..MaxStatus
	// with Min <= Max. Ignored by TCP and gRPC checks.
	ExpectedStatus []config.StatusRange
	// TLS, when not nil, makes HTTP and gRPC probes speak TLS with this
	// config (cloned; ServerName defaults to the host of the dialed
	// address). A failed handshake is OutcomeTLSError with the cause
	// in Err. Nil is plaintext. Ignored by TCP checks.
	TLS *tls.Config
}

// withDefaults returns s with its zero fields set to their defaults.
func (s Spec) withDefaults() Spec {
	if s.Type == "" {
		s.Type = TypeHTTP
	}
	if s.Interval == 0 {
		s.Interval = DefaultInterval
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	if s.Type == TypeHTTP {
		if s.Path == "" {
			s.Path = DefaultPath
		}
		if len(s.ExpectedStatus) == 0 {
			s.ExpectedStatus = []config.StatusRange{{Min: DefaultStatus, Max: DefaultStatus}}
		} else {
			s.ExpectedStatus = slices.Clone(s.ExpectedStatus)
		}
	}
	return s
}

// validate reports every problem of s (defaults already applied) in one
// joined error, each wrapping ErrInvalidSpec; nil when s is usable.
func (s Spec) validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidSpec}, args...)...))
	}
	switch s.Type {
	case TypeHTTP, TypeTCP, TypeGRPC:
	default:
		bad("type %q: want %q, %q or %q", s.Type, TypeHTTP, TypeTCP, TypeGRPC)
	}
	if s.Interval < 0 {
		bad("interval %s: must be positive", s.Interval)
	}
	if s.Timeout < 0 {
		bad("timeout %s: must be positive", s.Timeout)
	}
	if s.Timeout > 0 && s.Interval > 0 && s.Timeout >= s.Interval {
		bad("timeout %s must be shorter than interval %s (a timeout of 0 means %s)", s.Timeout, s.Interval, DefaultTimeout)
	}
	if s.Port < 0 || s.Port > 65535 {
		bad("port %d: want 1-65535, or 0 for the backend's own port", s.Port)
	}
	if s.Type == TypeHTTP {
		if len(s.Path) == 0 || s.Path[0] != '/' {
			bad("path %q: must start with \"/\"", s.Path)
		} else if invalidTokenByte(s.Path) >= 0 || strings.IndexByte(s.Path, '#') >= 0 {
			bad("path %q: contains a space, a control character or '#'", s.Path)
		}
		if invalidTokenByte(s.Host) >= 0 {
			bad("host %q: contains a space or a control character", s.Host)
		}
		for _, r := range s.ExpectedStatus {
			if r.Min < config.MinStatus || r.Max > config.MaxStatus || r.Min > r.Max {
				bad("expected status: range %d-%d: want %d <= min <= max <= %d", r.Min, r.Max, config.MinStatus, config.MaxStatus)
				break
			}
		}
	}
	if s.Type == TypeGRPC {
		if invalidTokenByte(s.Host) >= 0 {
			bad("host %q: contains a space or a control character", s.Host)
		}
		if !utf8.ValidString(s.GRPCService) {
			bad("grpc service %q: not valid UTF-8", s.GRPCService)
		}
	}
	return errors.Join(errs...)
}

// dialAddress returns the host:port a probe of the backend at address
// connects to, with the Port override applied.
func dialAddress(address string, port int) (string, error) {
	host, p, err := net.SplitHostPort(address)
	if err != nil {
		return "", fmt.Errorf("%w: backend address %q: %v", ErrInvalidSpec, address, err)
	}
	if host == "" {
		return "", fmt.Errorf("%w: backend address %q: missing host", ErrInvalidSpec, address)
	}
	if port != 0 {
		return net.JoinHostPort(host, strconv.Itoa(port)), nil
	}
	if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%w: backend address %q: port must be 1-65535", ErrInvalidSpec, address)
	}
	return address, nil
}

// invalidTokenByte returns the index of the first byte of s that may not
// appear in a request line or header value unescaped (space, control
// characters, DEL), or -1.
func invalidTokenByte(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return i
		}
	}
	return -1
}
