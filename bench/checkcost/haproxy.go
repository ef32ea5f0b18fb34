package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"text/template"
	"time"

	"github.com/lbtrust/lb/bench/proc"
	"github.com/lbtrust/lb/internal/freeport"
)

// defaultHAProxyTemplate is the shipped template, relative to the module
// root.
const defaultHAProxyTemplate = "bench/examples/haproxy-checks.cfg"

// haproxyParams fill the HAProxy template.
type haproxyParams struct {
	Listen            string
	Backends          []string
	Interval, Timeout time.Duration
	Rise, Fall        int
}

// haproxyTarget is HAProxy with a configuration rendered from a template.
// It runs in the foreground (-db); with master-worker (-W) when it is to
// be reloaded: SIGUSR2 makes the master start a new worker with the
// file as it is then and stop the old one.
type haproxyTarget struct {
	bin    string
	tmpl   *template.Template
	checks checkSettings

	// The current run's.
	params  haproxyParams
	cfgPath string
}

// newHAProxy parses the template at path (relative paths are also tried
// from the enclosing module's root).
func newHAProxy(bin, path string, checks checkSettings) (*haproxyTarget, error) {
	text, err := readTemplate(path)
	if err != nil {
		return nil, err
	}
	tmpl, err := parseHAProxyTemplate(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &haproxyTarget{bin: bin, tmpl: tmpl, checks: checks}, nil
}

// parseHAProxyTemplate parses an HAProxy configuration template.
func parseHAProxyTemplate(text string) (*template.Template, error) {
	return template.New("haproxy").Option("missingkey=error").Funcs(template.FuncMap{"hadur": haDuration}).Parse(text)
}

// renderHAProxy fills the template.
func renderHAProxy(tmpl *template.Template, p haproxyParams) (string, error) {
	var b strings.Builder
	if err := tmpl.Execute(&b, p); err != nil {
		return "", err
	}
	return b.String(), nil
}

// haDuration writes d as HAProxy reads a time: whole seconds as "Ns",
// anything else in milliseconds (HAProxy takes no fractions), at least
// "1ms".
func haDuration(d time.Duration) string {
	if d > 0 && d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", max(int64((d+time.Millisecond/2)/time.Millisecond), 1))
}

// readTemplate reads path, or, when it is relative and not found, path
// under the root of the module the working directory is in.
func readTemplate(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil || filepath.IsAbs(path) || !errors.Is(err, os.ErrNotExist) {
		return string(b), err
	}
	dir, werr := os.Getwd()
	for werr == nil {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			b, err := os.ReadFile(filepath.Join(dir, path))
			return string(b), err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", fmt.Errorf("HAProxy template %s not found (run inside the lb module, or give -haproxy-template)", path)
}

func (t *haproxyTarget) name() string { return "haproxy" }

func (t *haproxyTarget) available() error {
	if _, err := exec.LookPath(t.bin); err != nil {
		return fmt.Errorf("%s not found (apt-get install haproxy, or -haproxy PATH)", t.bin)
	}
	return nil
}

func (t *haproxyTarget) version() string {
	out, err := exec.Command(t.bin, "-v").CombinedOutput()
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

func (t *haproxyTarget) prepare(dir string, backends []string, reloadable bool) ([]string, []string, error) {
	ports, err := freeport.Loopback(1)
	if err != nil {
		return nil, nil, err
	}
	t.params = haproxyParams{Listen: ports[0], Backends: backends,
		Interval: t.checks.Interval, Timeout: t.checks.Timeout, Rise: t.checks.Rise, Fall: t.checks.Fall}
	t.cfgPath = filepath.Join(dir, "haproxy.cfg")
	if err := t.write(); err != nil {
		return nil, nil, err
	}
	argv := []string{t.bin, "-db", "-f", t.cfgPath}
	if reloadable {
		argv = []string{t.bin, "-W", "-db", "-f", t.cfgPath}
	}
	return argv, nil, nil
}

// write renders the configuration into the run's file.
func (t *haproxyTarget) write() error {
	text, err := renderHAProxy(t.tmpl, t.params)
	if err != nil {
		return err
	}
	return os.WriteFile(t.cfgPath, []byte(text), 0o600)
}

// ready returns at once: HAProxy is ready when the backends have been
// probed, which the caller waits for.
func (t *haproxyTarget) ready(context.Context, *proc.Proc, []string) error { return nil }

// reload sends SIGUSR2 to the master (prepare with reloadable).
func (t *haproxyTarget) reload(p *proc.Proc, mode string) error {
	if mode == reloadChecks {
		t.params.Timeout += time.Millisecond
		if err := t.write(); err != nil {
			return err
		}
	}
	return p.Signal(syscall.SIGUSR2)
}

func (t *haproxyTarget) goroutines() int { return -1 }
