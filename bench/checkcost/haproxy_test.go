package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHADuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{time.Second, "1s"},
		{5 * time.Second, "5s"},
		{500 * time.Millisecond, "500ms"},
		{1500 * time.Millisecond, "1500ms"},
		{501 * time.Millisecond, "501ms"},
		{1400 * time.Microsecond, "1ms"},
		{time.Microsecond, "1ms"},
	}
	for _, tt := range tests {
		if got := haDuration(tt.d); got != tt.want {
			t.Errorf("haDuration(%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// shippedTemplate reads bench/examples/haproxy-checks.cfg.
func shippedTemplate(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", "haproxy-checks.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestShippedHAProxyTemplate(t *testing.T) {
	tmpl, err := parseHAProxyTemplate(shippedTemplate(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    haproxyParams
		want []string // lines the configuration holds
		not  []string // lines it must not hold
	}{
		{"1000 at 1s",
			haproxyParams{Listen: "127.0.0.1:8081", Backends: []string{"127.0.0.1:9001", "127.0.0.1:9002"},
				Interval: time.Second, Timeout: 500 * time.Millisecond, Rise: 2, Fall: 3},
			[]string{"    nbthread 1", "    bind 127.0.0.1:8081", "    option httpchk GET /readyz",
				"    timeout check   500ms", "    timeout connect 500ms",
				"    default-server inter 1s rise 2 fall 3",
				"    server b0 127.0.0.1:9001 check", "    server b1 127.0.0.1:9002 check"},
			[]string{"    server b2"}},
		{"10000 at 5s, timeout nudged by a reload",
			haproxyParams{Listen: "127.0.0.1:8082", Backends: []string{"127.0.0.1:9001"},
				Interval: 5 * time.Second, Timeout: 2501 * time.Millisecond, Rise: 1, Fall: 1},
			[]string{"    timeout check   2501ms", "    default-server inter 5s rise 1 fall 1", "    server b0 127.0.0.1:9001 check"},
			[]string{"    server b1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := renderHAProxy(tmpl, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			lines := map[string]bool{}
			for _, l := range strings.Split(out, "\n") {
				lines[l] = true
			}
			for _, w := range tt.want {
				if !lines[w] {
					t.Errorf("no line %q in\n%s", w, out)
				}
			}
			for _, n := range tt.not {
				for l := range lines {
					if strings.HasPrefix(l, n) {
						t.Errorf("line %q in\n%s", l, out)
					}
				}
			}
		})
	}
}

// TestShippedHAProxyTemplateIsValid has HAProxy check the rendered
// configuration, when HAProxy is installed.
func TestShippedHAProxyTemplateIsValid(t *testing.T) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy not installed")
	}
	tmpl, err := parseHAProxyTemplate(shippedTemplate(t))
	if err != nil {
		t.Fatal(err)
	}
	out, err := renderHAProxy(tmpl, haproxyParams{Listen: "127.0.0.1:8081", Backends: []string{"127.0.0.1:9001", "127.0.0.1:9002"},
		Interval: time.Second, Timeout: 500 * time.Millisecond, Rise: 2, Fall: 3})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command(bin, "-c", "-f", path).CombinedOutput(); err != nil {
		t.Errorf("haproxy -c: %v\n%s\n%s", err, msg, out)
	}
}

func TestHAProxyTemplateErrors(t *testing.T) {
	tests := []struct {
		name, text string
	}{
		{"syntax", "server {{range .Backends}"},
		{"unknown field", "bind {{.Address}}"},
	}
	for _, tt := range tests {
		tmpl, err := parseHAProxyTemplate(tt.text)
		if err == nil {
			_, err = renderHAProxy(tmpl, haproxyParams{})
		}
		if err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}
