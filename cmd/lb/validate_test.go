package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestValidateReportsEveryMistakeWithPosition(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lb.hcl")
	src := `listener "public" {
  address = "127.0.0.1:8080"
  pool    = "web"
}
pool "web" {
  algorithm = "fastest"
  health_check {
    interval = "1s"
    timeout  = "2s"
  }
  backend "not-an-address" {}
}
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(lbBinary, "validate", "-config", path).CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit %v, want 1; output:\n%s", err, out)
	}
	pos := regexp.MustCompile(`lb\.hcl:(\d+),(\d+)(-\d+)?: `)
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if pos.MatchString(l) {
			lines = append(lines, l)
		}
	}
	if len(lines) != 3 {
		t.Fatalf("want 3 positioned diagnostics, got %d:\n%s", len(lines), out)
	}
	for i, want := range []string{"lb.hcl:6,", "lb.hcl:9,", "lb.hcl:11,"} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("diagnostic %d = %q, want it at %s", i, lines[i], want)
		}
	}
}

func TestValidateAcceptsTheExample(t *testing.T) {
	out, err := exec.Command(lbBinary, "validate", "-config", "../../examples/lb.hcl").CombinedOutput()
	if err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
}

// TestValidateAcceptsTheTLSExample: the TLS example and its demo
// certificates load cleanly, warnings included.
func TestValidateAcceptsTheTLSExample(t *testing.T) {
	out, err := exec.Command(lbBinary, "validate", "-config", "../../examples/lb-tls.hcl").CombinedOutput()
	if err != nil || strings.Contains(string(out), "warning") {
		t.Fatalf("%v:\n%s", err, out)
	}
}

func TestVersionFlag(t *testing.T) {
	out, err := exec.Command(lbBinary, "-version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "lb ") {
		t.Fatalf("%v: %q", err, out)
	}
}
