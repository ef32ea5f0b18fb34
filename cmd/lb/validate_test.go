package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// validateCase is one run of lb validate through the built binary.
type validateCase struct {
	name string
	src  string // written as lb.hcl in a fresh directory; "" for none
	args []string
	code int
	// json: the report's diagnostics as "severity line:column-end_line:end_column summary",
	// nil when stdout must be empty (a usage error).
	diags []string
	// stderr must contain this in text mode ("" for nothing to check).
	stderr string
}

// file is the path the case names with -config: the last one given.
func (tc validateCase) file() string {
	f := "lb.hcl"
	for i, a := range tc.args {
		if a == "-config" && i+1 < len(tc.args) {
			f = tc.args[i+1]
		}
	}
	return f
}

// Configurations of the table: each mistake is at a known position.
const (
	validClean = `listener "public" {
  address = "127.0.0.1:8080"
  pool    = "web"
}
pool "web" {
  backend "127.0.0.1:9001" {}
}
`
	validWithWarning = `listener "public" {
  address = "127.0.0.1:8080"
  pool    = "web"
}
pool "web" {
  response_timeout  = "10s"
  body_idle_timeout = "60s"
  backend "127.0.0.1:9001" {}
}
`
	threeErrors = `listener "public" {
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
)

// TestValidateExitCodesAndJSON runs lb validate in both formats on good,
// broken, unreadable and missing files and on bad command lines: the exit
// code (0 valid, 1 errors, 2 usage or unreadable), and with -format json
// one report on stdout in the documented shape (nothing on stderr), or
// nothing on stdout for a usage error.
func TestValidateExitCodesAndJSON(t *testing.T) {
	for _, tc := range []validateCase{
		{name: "clean", src: validClean, code: 0, diags: []string{}},
		{name: "warning only", src: validWithWarning, code: 0,
			diags:  []string{"warning 7:23-7:28 Body idle timeout longer than response timeout"},
			stderr: "lb.hcl:7,23-28: warning: Body idle timeout"},
		{name: "three errors", src: threeErrors, code: 1, diags: []string{
			"error 6:15-6:24 Unknown algorithm",
			"error 9:16-9:20 Timeout not shorter than interval",
			"error 11:11-11:27 Invalid backend address",
		}, stderr: "lb.hcl: 3 error(s)"},
		{name: "syntax error", src: "pool \"web\" {\n", code: 1, diags: []string{"error 1:12-1:13 Unclosed configuration block"}},
		{name: "empty file", src: "\n", code: 1, diags: []string{"error 1:1-1:1 No listener"}},
		{name: "missing file", code: 2, diags: []string{"error 1:1-1:1 Cannot read configuration file"},
			stderr: "cannot be read; nothing was checked"},
		{name: "directory", args: []string{"-config", "."}, code: 2,
			diags: []string{"error 1:1-1:1 Cannot read configuration file"}},
		{name: "unknown format", src: validClean, args: []string{"-format", "yaml"}, code: 2, stderr: "want text or json"},
		{name: "unknown flag", src: validClean, args: []string{"-strict"}, code: 2, stderr: "usage: lb validate"},
		{name: "positional argument", src: validClean, args: []string{"lb.hcl"}, code: 2, stderr: "name the file with -config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.src != "" {
				writeFile(t, filepath.Join(dir, "lb.hcl"), tc.src)
			}
			for _, format := range []string{"json", "text"} {
				// tc.args go last, so they win over these.
				args := append([]string{"validate", "-config", "lb.hcl", "-format", format}, tc.args...)
				cmd := exec.Command(lbBinary, args...)
				cmd.Dir = dir
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				code := 0
				if ee, ok := err.(*exec.ExitError); ok {
					code = ee.ExitCode()
				} else if err != nil {
					t.Fatal(err)
				}
				if code != tc.code {
					t.Errorf("-format %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", format, code, tc.code, &stdout, &stderr)
				}
				if format == "text" {
					if !strings.Contains(stderr.String(), tc.stderr) {
						t.Errorf("-format text: stderr %q does not contain %q", &stderr, tc.stderr)
					}
					if valid := strings.Contains(stdout.String(), "configuration is valid"); valid != (tc.code == 0) {
						t.Errorf("-format text: stdout %q, exit %d", &stdout, code)
					}
					continue
				}
				checkJSONReport(t, tc, stdout.Bytes(), stderr.String())
			}
		})
	}
}

// checkJSONReport holds lb validate -format json's stdout and stderr to
// tc: for a usage error nothing on stdout, else one report in the
// documented shape, every key present, and nothing on stderr.
func checkJSONReport(t *testing.T, tc validateCase, stdout []byte, stderr string) {
	t.Helper()
	if tc.diags == nil {
		if len(stdout) != 0 || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("-format json usage error: stdout %q (want none), stderr %q (want %q)", stdout, stderr, tc.stderr)
		}
		return
	}
	if stderr != "" {
		t.Errorf("-format json: stderr %q, want nothing", stderr)
	}
	// Every documented key, with its JSON type: a consumer may rely on
	// each being present.
	var raw map[string]any
	if err := json.Unmarshal(stdout, &raw); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout)
	}
	for key, kind := range map[string]string{"format_version": "number", "valid": "bool",
		"error_count": "number", "warning_count": "number", "diagnostics": "array"} {
		if got := jsonKind(raw[key]); got != kind {
			t.Errorf("report key %q is %s, want %s:\n%s", key, got, kind, stdout)
		}
	}
	for _, d := range raw["diagnostics"].([]any) {
		m, _ := d.(map[string]any)
		for key, kind := range map[string]string{"severity": "string", "summary": "string", "detail": "string",
			"file": "string", "line": "number", "column": "number", "end_line": "number", "end_column": "number"} {
			if got := jsonKind(m[key]); got != kind {
				t.Errorf("diagnostic key %q is %s, want %s: %v", key, got, kind, m)
			}
		}
	}
	var r validateReport
	dec := json.NewDecoder(bytes.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("report does not decode strictly: %v\n%s", err, stdout)
	}
	var got []string
	errs, warns := 0, 0
	for _, d := range r.Diagnostics {
		got = append(got, fmt.Sprintf("%s %d:%d-%d:%d %s", d.Severity, d.Line, d.Column, d.EndLine, d.EndColumn, d.Summary))
		if d.Severity == "error" {
			errs++
		} else {
			warns++
		}
		if d.Detail == "" || d.File != tc.file() {
			t.Errorf("diagnostic %+v: want a detail and file %q (as given with -config)", d, tc.file())
		}
	}
	if strings.Join(got, "\n") != strings.Join(tc.diags, "\n") {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.diags, "\n"))
	}
	if r.FormatVersion != 1 || r.Valid != (tc.code == 0) || r.ErrorCount != errs || r.WarningCount != warns {
		t.Errorf("report %+v for exit %d with %d error(s), %d warning(s)", r, tc.code, errs, warns)
	}
}

// jsonKind names the JSON type of a decoded value ("missing" for nil).
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "missing"
	case bool:
		return "bool"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

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
