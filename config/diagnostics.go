package config

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// WriteDiagnostics writes one line per diagnostic to w, in the form
// hcl.Diagnostic.Error uses:
//
//	lb.hcl:12,5-9: Summary; Detail
//
// Warnings carry a "warning: " prefix before the summary. Line breaks
// inside a detail are folded into spaces so each diagnostic stays on one
// line. Write errors are ignored, as with fmt.Fprintln to a terminal.
func WriteDiagnostics(w io.Writer, diags hcl.Diagnostics) {
	for _, d := range diags {
		var b strings.Builder
		if d.Subject != nil {
			b.WriteString(d.Subject.String())
			b.WriteString(": ")
		}
		if d.Severity == hcl.DiagWarning {
			b.WriteString("warning: ")
		}
		b.WriteString(oneLine(d.Summary))
		if d.Detail != "" {
			b.WriteString("; ")
			b.WriteString(oneLine(d.Detail))
		}
		b.WriteByte('\n')
		_, _ = io.WriteString(w, b.String())
	}
}

// oneLine folds runs of whitespace, line breaks included, into one space.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// errorf returns an error diagnostic about subject. The detail should say
// what to do about the problem.
func errorf(subject hcl.Range, summary, detailFormat string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(detailFormat, args...),
		Subject:  subject.Ptr(),
	}
}

// warnf returns a warning diagnostic about subject.
func warnf(subject hcl.Range, summary, detailFormat string, args ...any) *hcl.Diagnostic {
	d := errorf(subject, summary, detailFormat, args...)
	d.Severity = hcl.DiagWarning
	return d
}

// missingAttr reports a required attribute that is not written in the
// block declared at block.
func missingAttr(block hcl.Range, what, name, example string) *hcl.Diagnostic {
	return errorf(block, "Missing required argument",
		"The %s has no %s: add %s = %s.", what, name, name, example)
}

// sortDiagnostics orders diags by file and position, those without a
// subject first, keeping the order of diagnostics at the same place.
func sortDiagnostics(diags hcl.Diagnostics) {
	slices.SortStableFunc(diags, func(a, b *hcl.Diagnostic) int {
		switch {
		case a.Subject == nil && b.Subject == nil:
			return 0
		case a.Subject == nil:
			return -1
		case b.Subject == nil:
			return 1
		}
		return cmp.Or(
			cmp.Compare(a.Subject.Filename, b.Subject.Filename),
			cmp.Compare(a.Subject.Start.Byte, b.Subject.Start.Byte),
		)
	})
}

// lineOf names the line a range starts on, for details that point at a
// second place ("declared at line 12").
func lineOf(r hcl.Range) string {
	return fmt.Sprintf("line %d", r.Start.Line)
}

// adviseDecodeDiags completes the details of diagnostics that hcl and
// gohcl produce without saying what to do, such as an unknown argument
// with no close match.
func adviseDecodeDiags(diags hcl.Diagnostics) {
	for _, d := range diags {
		switch {
		case strings.Contains(d.Detail, "Did you mean"):
		case d.Summary == "Unsupported argument" || d.Summary == "Unsupported block type":
			d.Detail += " Remove it, or check its spelling against the configuration reference."
		case d.Summary == "Variables not allowed" || d.Summary == "Function calls not allowed":
			d.Detail += " Write the value out literally, such as \"10s\" or 2."
		case d.Summary == "Missing type for discovery":
			d.Detail += ` Name the source after the block type, such as discovery "dns" { name = "_http._tcp.web.internal" } or discovery "etcd" { endpoints = ["127.0.0.1:2379"]  prefix = "/lb/pools/web/" }.`
		case d.Summary == "Unsuitable value type":
			d.Detail += ". Numbers are written bare (weight = 2); durations, addresses and names are quoted strings (interval = \"10s\")."
		}
	}
}
