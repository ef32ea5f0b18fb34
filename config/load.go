package config

import (
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Load reads the file at path and decodes it with Parse. A file that
// cannot be read gives one diagnostic whose subject is line 1 of path.
//
// The Config is nil whenever the diagnostics hold an error; callers must
// check diags.HasErrors() and should print diags with WriteDiagnostics.
func Load(path string) (*Config, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		start := hcl.Range{Filename: path, Start: hcl.InitialPos, End: hcl.InitialPos}
		return nil, hcl.Diagnostics{errorf(start, "Cannot read configuration file",
			"%v. Check the path given with -config.", err)}
	}
	return Parse(src, path)
}

// Parse decodes src as if read from filename, which names the file in
// every diagnostic. It reports every problem it finds in one pass, sorted
// by position; a syntax error stops it before decoding, since the rest of
// the file cannot be trusted.
//
// The Config is nil whenever the diagnostics hold an error. Parse keeps
// no reference to src.
func Parse(src []byte, filename string) (*Config, hcl.Diagnostics) {
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		sortDiagnostics(diags)
		return nil, diags
	}

	var raw fileSchema
	diags = append(diags, gohcl.DecodeBody(file.Body, nil, &raw)...)
	cfg, moreDiags := decodeFile(&raw, file.Body.MissingItemRange())
	diags = append(diags, moreDiags...)

	adviseDecodeDiags(diags)
	sortDiagnostics(diags)
	if diags.HasErrors() {
		return nil, diags
	}
	return cfg, diags
}
