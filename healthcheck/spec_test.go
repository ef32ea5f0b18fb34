package healthcheck

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lbtrust/lb/config"
)

func TestNewDefaults(t *testing.T) {
	c := newChecker(t, Spec{}, "10.0.0.1:8000", nil)
	want := Spec{
		Type:           TypeHTTP,
		Path:           DefaultPath,
		Interval:       DefaultInterval,
		Timeout:        DefaultTimeout,
		ExpectedStatus: []config.StatusRange{{Min: 200, Max: 200}},
	}
	if got := c.Spec(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Spec() = %+v, want %+v", got, want)
	}
	if c.Address() != "10.0.0.1:8000" {
		t.Fatalf("Address() = %q", c.Address())
	}
}

// TestNewKeepsACopy: changing the caller's slice after New changes nothing.
func TestNewKeepsACopy(t *testing.T) {
	ranges := []config.StatusRange{{Min: 200, Max: 299}}
	c := newChecker(t, Spec{ExpectedStatus: ranges}, "127.0.0.1:1", nil)
	ranges[0] = config.StatusRange{Min: 500, Max: 500}
	c.Spec().ExpectedStatus[0] = config.StatusRange{Min: 404, Max: 404}
	if got := c.Spec().ExpectedStatus; got[0] != (config.StatusRange{Min: 200, Max: 299}) {
		t.Fatalf("ExpectedStatus = %v", got)
	}
}

func TestNewRejects(t *testing.T) {
	rep := &recorder{}
	tests := []struct {
		name    string
		spec    Spec
		address string
		rep     Reporter
		want    string
	}{
		{"unknown type", Spec{Type: "udp"}, "h:1", rep, `type "udp"`},
		{"timeout equals interval", Spec{Interval: time.Second, Timeout: time.Second}, "h:1", rep, "shorter than interval"},
		{"default timeout over short interval", Spec{Interval: 2 * time.Second}, "h:1", rep, "shorter than interval"},
		{"negative interval", Spec{Interval: -time.Second}, "h:1", rep, "interval -1s"},
		{"negative timeout", Spec{Timeout: -time.Second}, "h:1", rep, "timeout -1s"},
		{"port too big", Spec{Port: 70000}, "h:1", rep, "port 70000"},
		{"negative port", Spec{Port: -1}, "h:1", rep, "port -1"},
		{"relative path", Spec{Path: "readyz"}, "h:1", rep, `path "readyz"`},
		{"path with space", Spec{Path: "/a b"}, "h:1", rep, "path"},
		{"path with fragment", Spec{Path: "/a#b"}, "h:1", rep, "path"},
		{"host header injection", Spec{Host: "a\r\nX-Evil: 1"}, "h:1", rep, "host"},
		{"status below 100", Spec{ExpectedStatus: []config.StatusRange{{Min: 99, Max: 200}}}, "h:1", rep, "expected status"},
		{"status range reversed", Spec{ExpectedStatus: []config.StatusRange{{Min: 300, Max: 200}}}, "h:1", rep, "expected status"},
		{"status above 599", Spec{ExpectedStatus: []config.StatusRange{{Min: 200, Max: 600}}}, "h:1", rep, "expected status"},
		{"address without port", Spec{}, "10.0.0.1", rep, "backend address"},
		{"address without host", Spec{}, ":80", rep, "missing host"},
		{"address with bad port", Spec{}, "h:http", rep, "port must be"},
		{"address with port 0", Spec{}, "h:0", rep, "port must be"},
		{"nil reporter", Spec{}, "h:1", nil, "nil Reporter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.spec, tt.address, tt.rep, nil)
			if err == nil || c != nil {
				t.Fatalf("New accepted it")
			}
			if !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q: want ErrInvalidSpec mentioning %q", err, tt.want)
			}
		})
	}
}

// TestNewReportsEveryProblem: all mistakes in one error, one per line.
func TestNewReportsEveryProblem(t *testing.T) {
	_, err := New(Spec{Type: "udp", Interval: time.Second, Timeout: 2 * time.Second, Port: -5}, "nope", nil, nil)
	if err == nil {
		t.Fatal("New accepted it")
	}
	if n := len(strings.Split(err.Error(), "\n")); n != 5 {
		t.Fatalf("%d problems reported, want 5:\n%v", n, err)
	}
}

// TestNewAcceptsSubSecondAndIPv6: the shapes tests and benchmarks use.
func TestNewAcceptsSubSecondAndIPv6(t *testing.T) {
	newChecker(t, Spec{Interval: 100 * time.Millisecond, Timeout: 50 * time.Millisecond}, "[::1]:8080", nil)
	newChecker(t, Spec{Type: TypeTCP, Interval: 200 * time.Millisecond, Timeout: 100 * time.Millisecond}, "backend.internal:9000", nil)
}
