package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/lbtrust/lb/config"
)

// Exit codes of lb validate, for CI pipelines.
const (
	// validateOK: the file is valid; warnings may have been printed.
	validateOK = 0
	// validateInvalid: the file was read and has at least one error.
	validateInvalid = 1
	// validateUsage: nothing was checked: a bad command line, or the
	// file given with -config cannot be read.
	validateUsage = 2
)

// cmdValidate checks a configuration file exactly as lb does at start and
// on reload, and returns validateOK, validateInvalid or validateUsage.
//
// With -format text (the default) each diagnostic is one line on stderr
// (config.WriteDiagnostics) and a one-line verdict follows. With -format
// json stdout holds one validateReport (validate_json.go) whenever a file
// was named, readable or not, and stderr nothing; a usage error prints
// only to stderr.
func cmdValidate(args []string) int {
	fs := flag.NewFlagSet("lb validate", flag.ContinueOnError)
	path := fs.String("config", "lb.hcl", "configuration `file` to check")
	format := fs.String("format", "text", "output: text (diagnostics on stderr) or json (one report on stdout)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: lb validate [-config FILE] [-format text|json]\n\n"+
			"exit 0: valid (warnings allowed); 1: the file has errors; 2: bad usage or unreadable file\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return validateOK
	} else if err != nil {
		return validateUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "lb validate: unexpected argument %q; name the file with -config\n", fs.Arg(0))
		return validateUsage
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(os.Stderr, "lb validate: -format %q: want text or json\n", *format)
		return validateUsage
	}

	code, diags := validateFile(*path)
	if *format == "json" {
		if err := writeValidateJSON(os.Stdout, code == validateOK, diags); err != nil {
			fmt.Fprintln(os.Stderr, "lb validate:", err)
			return validateUsage
		}
		return code
	}
	writeValidateText(os.Stdout, os.Stderr, *path, code, diags)
	return code
}

// validateFile loads path with config.Load, as lb does at start and on
// reload, and returns the exit code with the diagnostics: validateUsage
// (with config.Load's one "Cannot read configuration file" diagnostic)
// when the file cannot be opened and read, validateInvalid on any error.
func validateFile(path string) (int, hcl.Diagnostics) {
	f, err := os.Open(path)
	if err == nil {
		_, err = f.Read(make([]byte, 1)) // a directory opens but cannot be read
		f.Close()
	}
	_, diags := config.Load(path)
	switch {
	case err != nil && !errors.Is(err, io.EOF): // EOF: an empty file, which Load judges
		return validateUsage, diags
	case diags.HasErrors():
		return validateInvalid, diags
	}
	return validateOK, diags
}

// writeValidateText prints diags on stderr and the verdict: "FILE:
// configuration is valid" on stdout, or "FILE: N error(s)" (or "cannot
// be read") on stderr.
func writeValidateText(stdout, stderr io.Writer, path string, code int, diags hcl.Diagnostics) {
	config.WriteDiagnostics(stderr, diags)
	switch code {
	case validateOK:
		fmt.Fprintf(stdout, "%s: configuration is valid\n", path)
	case validateInvalid:
		fmt.Fprintf(stderr, "%s: %d error(s)\n", path, len(diags.Errs()))
	default:
		fmt.Fprintf(stderr, "%s: cannot be read; nothing was checked\n", path)
	}
}
