package main

import (
	"encoding/json"
	"io"

	"github.com/hashicorp/hcl/v2"
)

// validateFormatVersion is the format_version of validateReport. It
// changes only if a field is removed or changes meaning; new fields may
// be added without changing it.
const validateFormatVersion = 1

// validateReport is what lb validate -format json prints on stdout: one
// JSON object of this shape in every case, clean, invalid or unreadable.
//
//	{"format_version": 1, "valid": false, "error_count": 1, "warning_count": 0,
//	 "diagnostics": [{"severity": "error", "summary": "...", "detail": "...",
//	   "file": "lb.hcl", "line": 6, "column": 15, "end_line": 6, "end_column": 24}]}
//
// A clean file gives "valid": true and "diagnostics": [] (never null).
type validateReport struct {
	FormatVersion int `json:"format_version"`
	// Valid is true exactly when the exit code is 0.
	Valid        bool `json:"valid"`
	ErrorCount   int  `json:"error_count"`
	WarningCount int  `json:"warning_count"`
	// Diagnostics are sorted by file and position, as the text output.
	Diagnostics []diagnosticJSON `json:"diagnostics"`
}

// diagnosticJSON is one diagnostic of a validateReport. Lines and columns
// count from 1, columns in characters; the end is exclusive, as in
// hcl.Range. A diagnostic with no position has file "" and zeros.
type diagnosticJSON struct {
	// Severity is "error" or "warning".
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	// Detail says what to do about it; it may be "".
	Detail    string `json:"detail"`
	File      string `json:"file"`
	Line      int    `json:"line"`
	Column    int    `json:"column"`
	EndLine   int    `json:"end_line"`
	EndColumn int    `json:"end_column"`
}

// newValidateReport builds the report of diags; valid is the verdict
// (exit code 0).
func newValidateReport(valid bool, diags hcl.Diagnostics) validateReport {
	r := validateReport{FormatVersion: validateFormatVersion, Valid: valid, Diagnostics: []diagnosticJSON{}}
	for _, d := range diags {
		j := diagnosticJSON{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			j.Severity = "warning"
			r.WarningCount++
		} else {
			r.ErrorCount++
		}
		if s := d.Subject; s != nil {
			j.File, j.Line, j.Column, j.EndLine, j.EndColumn = s.Filename, s.Start.Line, s.Start.Column, s.End.Line, s.End.Column
		}
		r.Diagnostics = append(r.Diagnostics, j)
	}
	return r
}

// writeValidateJSON writes the report of diags to w, indented, with a
// final newline.
func writeValidateJSON(w io.Writer, valid bool, diags hcl.Diagnostics) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(newValidateReport(valid, diags))
}
