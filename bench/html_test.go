package main

import (
	"os"
	"testing"

	"github.com/lbtrust/lb/bench/internal/htmlcheck"
)

// checkSelfContained fails the test unless the HTML report at path is a
// self-contained page with its three charts.
func checkSelfContained(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	problems, svgs := htmlcheck.Check(f)
	for _, p := range problems {
		t.Errorf("%s: %s", path, p)
	}
	if svgs != 3 {
		t.Errorf("%s: %d inline SVG charts, want 3", path, svgs)
	}
}
