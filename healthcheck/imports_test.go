package healthcheck

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// module is the project's module path (go.mod).
const module = "github.com/lbtrust/lb"

// TestImportsOnlyConfigFromTheProject pins the import direction of
// docs/DESIGN.md: healthcheck owns its vocabulary (Result, Outcome) and
// imports no package of the project but config (for the one StatusRange
// type; config is a leaf of plain values), so the pool, the proxy and the
// server sit above it and adapt to it, never the other way round. Only the
// package's own (non-test) files count: a test may wire a checker to
// anything.
func TestImportsOnlyConfigFromTheProject(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range f.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				t.Fatalf("%s: import %s: %v", name, imp.Path.Value, err)
			}
			if path == module+"/config" {
				continue // the StatusRange type; config imports nothing
			}
			if path == module || strings.HasPrefix(path, module+"/") {
				t.Errorf("%s imports %s: healthcheck must import nothing from the project but config (docs/DESIGN.md, section 1)",
					fset.Position(imp.Pos()), path)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no non-test .go file found: the test runs in the wrong directory")
	}
}
