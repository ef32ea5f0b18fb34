package main

import (
	"strings"
	"testing"
	"time"

	"github.com/lbtrust/lb/demo"
	"github.com/lbtrust/lb/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }

// TestRunAgainstDemoBackend: the example client talks to a demo backend's
// echo and prints what the README says it prints.
func TestRunAgainstDemoBackend(t *testing.T) {
	b, err := demo.Start("127.0.0.1:0", "d1")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var out strings.Builder
	if err := run("ws://"+b.Addr()+demo.WebSocketPath, []string{"hello", "world"}, 20*time.Second, &out); err != nil {
		t.Fatal(err)
	}
	want := "connected to ws://" + b.Addr() + "/ws (backend \"d1\")\necho: hello\necho: world\n"
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}
