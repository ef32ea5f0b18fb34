package dns

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lbtrust/lb/config"
)

func TestNew(t *testing.T) {
	const res = "127.0.0.1:5353"
	for _, tc := range []struct {
		name    string
		cfg     Config
		wantErr string // substring; "" for none
		check   func(*Source) bool
	}{
		{"srv by default for _ names", Config{Name: "_http._tcp.web.test", Resolver: res}, "",
			func(s *Source) bool {
				return s.typ == config.DNSRecordSRV && s.name == "_http._tcp.web.test." && s.timeout == config.DefaultDNSTimeout
			}},
		{"a by default for other names", Config{Name: "web.test.", Port: 80, Resolver: res}, "",
			func(s *Source) bool { return s.typ == config.DNSRecordA && s.name == "web.test." && s.port == 80 }},
		{"explicit type and durations", Config{Name: "web.test", Type: config.DNSRecordSRV, Resolver: "[::1]:53", Refresh: 3 * time.Second, Timeout: time.Second}, "",
			func(s *Source) bool {
				return s.typ == config.DNSRecordSRV && s.refresh == 3*time.Second && s.timeout == time.Second && s.resolver == "[::1]:53"
			}},
		{"empty name", Config{Resolver: res}, "name is empty", nil},
		{"bad name", Config{Name: "a..b", Port: 80, Resolver: res}, "not a domain name", nil},
		{"bad type", Config{Name: "web.test", Type: "mx", Port: 80, Resolver: res}, `type "mx"`, nil},
		{"port with srv", Config{Name: "_x._tcp.test", Port: 80, Resolver: res}, "port 80 given for type srv", nil},
		{"no port with a", Config{Name: "web.test", Resolver: res}, "port 0 out of", nil},
		{"port too large", Config{Name: "web.test", Port: 65536, Resolver: res}, "port 65536 out of", nil},
		{"negative refresh", Config{Name: "web.test", Port: 80, Resolver: res, Refresh: -time.Second}, "refresh -1s", nil},
		{"negative timeout", Config{Name: "web.test", Port: 80, Resolver: res, Timeout: -time.Second}, "timeout -1s", nil},
		{"resolver without port", Config{Name: "web.test", Port: 80, Resolver: "127.0.0.1"}, "not host:port", nil},
		{"resolver with bad port", Config{Name: "web.test", Port: 80, Resolver: "127.0.0.1:dns"}, "no port", nil},
		{"resolver with port 0", Config{Name: "web.test", Port: 80, Resolver: "127.0.0.1:0"}, "no port", nil},
	} {
		s, err := New(tc.cfg, nil)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: err = %v, want one containing %q", tc.name, err, tc.wantErr)
		case tc.check != nil && !tc.check(s):
			t.Errorf("%s: source %+v", tc.name, s)
		}
	}
}

func TestNewDefaultResolverIsHostPort(t *testing.T) {
	s, err := New(Config{Name: "web.test", Port: 80}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.resolver == "" {
		t.Fatal("no resolver")
	}
}

func TestDefaultResolver(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, conf, want string
	}{
		{"first nameserver", "search test\nnameserver 127.0.0.53\nnameserver 127.0.0.54\n", "127.0.0.53:53"},
		{"IPv6 nameserver", "nameserver ::1\n", "[::1]:53"},
		{"no nameserver", "search test\noptions ndots:2\n", fallbackResolver},
		{"empty file", "", fallbackResolver},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
		if err := os.WriteFile(path, []byte(tc.conf), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := defaultResolver(path); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := defaultResolver(filepath.Join(dir, "missing")); got != fallbackResolver {
		t.Errorf("missing file: %q, want %q", got, fallbackResolver)
	}
}

func TestConfigFrom(t *testing.T) {
	d := &config.DNSDiscovery{Name: "web.test", Type: config.DNSRecordA, Port: 8080, Resolver: "127.0.0.1:53",
		Refresh: 2 * time.Second, Timeout: time.Second}
	want := Config{Name: "web.test", Type: config.DNSRecordA, Port: 8080, Resolver: "127.0.0.1:53",
		Refresh: 2 * time.Second, Timeout: time.Second}
	if got := ConfigFrom(d); got != want {
		t.Errorf("ConfigFrom = %+v, want %+v", got, want)
	}
}
