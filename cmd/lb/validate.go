package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/lbtrust/lb/config"
)

// cmdValidate prints every diagnostic of a configuration file and exits 1
// if any is an error, 0 when the file is clean.
func cmdValidate(args []string) int {
	fs := flag.NewFlagSet("lb validate", flag.ContinueOnError)
	path := fs.String("config", "lb.hcl", "configuration `file` to check")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	_, diags := config.Load(*path)
	config.WriteDiagnostics(os.Stderr, diags)
	if diags.HasErrors() {
		fmt.Fprintf(os.Stderr, "%s: %d error(s)\n", *path, len(diags.Errs()))
		return 1
	}
	fmt.Fprintf(os.Stdout, "%s: configuration is valid\n", *path)
	return 0
}
