package server

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestShutdownRightAfterStart: a stop that follows Start before its serve
// goroutines have run (a SIGTERM during startup) must not leave one of
// them accepting forever, with Shutdown waiting for it.
func TestShutdownRightAfterStart(t *testing.T) {
	b := startBackend(t, "b1")
	src := fmt.Sprintf(`
admin { address = "127.0.0.1:0" }
listener "public" {
  address = "127.0.0.1:0"
  pool    = "web"
}
pool "web" {
  backend %q {}
}
`, b.Addr())
	for i := range 100 {
		lb, err := New(mustParse(t, src), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := lb.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- lb.Shutdown(context.Background()) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Shutdown right after Start did not return within 10s (round %d)", i)
		}
	}
}
