package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// fetchProfile asks lb's admin listener for a CPU profile of the next
// secs seconds (admin { pprof = true }, /debug/pprof/profile) and writes
// it to path, for `go tool pprof`.
func fetchProfile(ctx context.Context, admin string, secs int, path string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+30*time.Second)
	defer cancel()
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", admin, secs)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	c := &http.Client{}
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %.300s", url, resp.Status, body)
	}
	return os.WriteFile(path, body, 0o644)
}
