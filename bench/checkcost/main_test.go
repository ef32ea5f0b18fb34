package main

import (
	"os"
	"testing"

	"github.com/lbtrust/lb/internal/leakcheck"
)

// TestMain also lets the test binary be a backends helper, as the
// command is (startHelper runs os.Executable).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == helperArg {
		os.Exit(helperMain(os.Args[2:]))
	}
	leakcheck.VerifyTestMain(m)
}
