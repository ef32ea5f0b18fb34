package healthcheck

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any goroutine (a checker, a probe's
// cancellation hook, a test server) is still running after the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
