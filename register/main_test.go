package register

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/lbtrust/lb/internal/leakcheck"
)

// lbBinary is the lb binary (with -race) built by TestMain for the tests
// that run `lb register` as a real process.
var lbBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lb-register-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lbBinary = filepath.Join(dir, "lb")
	build := exec.Command("go", "build", "-race", "-o", lbBinary, "github.com/lbtrust/lb/cmd/lb")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building lb:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	// A race-built process otherwise sleeps 1 s before it exits.
	if gorace := os.Getenv("GORACE"); !strings.Contains(gorace, "atexit_sleep_ms") {
		os.Setenv("GORACE", strings.TrimSpace(gorace+" atexit_sleep_ms=0"))
	}
	goleak.VerifyTestMain(m, append(leakcheck.Options(), goleak.Cleanup(func(code int) {
		os.RemoveAll(dir)
		os.Exit(code)
	}))...)
}
