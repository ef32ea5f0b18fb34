package dns

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsOnlyConfigAndDiscovery pins the import direction of
// docs/DESIGN.md §11: a discovery source produces sets and knows nothing
// of pools, so from the project it imports only config (plain values)
// and discovery (Target, Sink). Tests may import anything.
func TestImportsOnlyConfigAndDiscovery(t *testing.T) {
	const module = "github.com/lbtrust/lb"
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if path == module+"/config" || path == module+"/discovery" {
				continue
			}
			if path == module || strings.HasPrefix(path, module+"/") {
				t.Errorf("%s imports %s: discovery/dns may import only config and discovery from the project", fset.Position(imp.Pos()), path)
			}
		}
	}
}
