// Package leakcheck holds the goleak options every test package of the
// project shares, so "no goroutine left behind" means the same everywhere.
package leakcheck

import (
	"testing"

	"go.uber.org/goleak"
)

// Options are goleak options that ignore fasthttp's own janitor goroutines.
// Two exit on their own after one sleep (fasthttp offers no way to wake
// them): the server worker pool's cleaner sleeps MaxIdleWorkerDuration
// after Stop, and a HostClient's connsCleaner sleeps MaxIdleConnDuration
// after its last connection is closed. The third, the Date header
// refresher, runs once per process for its whole life by design.
// Anything else left running fails.
func Options() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*HostClient).connsCleaner"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
	}
}

// VerifyTestMain runs the package's tests and fails the run if a goroutine
// other than fasthttp's janitors is still running at the end.
func VerifyTestMain(m *testing.M) { goleak.VerifyTestMain(m, Options()...) }
