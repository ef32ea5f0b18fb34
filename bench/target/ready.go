package target

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// WaitPort waits until addr accepts TCP connections, the target exits
// (done closes), or ctx ends.
func WaitPort(ctx context.Context, addr string, done <-chan struct{}) error {
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if perr := pause(ctx, done, 50*time.Millisecond); perr != nil {
			return fmt.Errorf("waiting for %s to accept connections: %w (last: %v)", addr, perr, err)
		}
	}
}

// WaitHealthy waits until an lb admin listener's /status shows every
// address in backends as healthy.
func WaitHealthy(ctx context.Context, admin string, backends []string, done <-chan struct{}) error {
	c := &http.Client{Timeout: time.Second}
	defer c.CloseIdleConnections()
	var last string
	for {
		views, err := FetchStatus(ctx, c, admin)
		if err != nil {
			last = err.Error()
		} else {
			state := map[string]string{}
			for _, v := range views {
				state[v.Address] = v.State
			}
			last = ""
			for _, b := range backends {
				if state[b] != "healthy" {
					last = fmt.Sprintf("backend %s is %q", b, state[b])
					break
				}
			}
			if last == "" {
				return nil
			}
		}
		if err := pause(ctx, done, 50*time.Millisecond); err != nil {
			return fmt.Errorf("waiting for every backend to be healthy: %w (last: %s)", err, last)
		}
	}
}

// pause sleeps d unless ctx ends or done closes first.
func pause(ctx context.Context, done <-chan struct{}, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-done:
		return fmt.Errorf("the load balancer exited")
	}
}

// WaitServedBy sends GETs to url until answers tagged (header) with every
// name in names have been seen, ctx ends or done closes. It returns the
// names not seen.
func WaitServedBy(ctx context.Context, url, header string, names []string, done <-chan struct{}) []string {
	c := &http.Client{Timeout: 2 * time.Second}
	defer c.CloseIdleConnections()
	missing := map[string]bool{}
	for _, n := range names {
		missing[n] = true
	}
	for len(missing) > 0 {
		if resp, err := c.Get(url); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				delete(missing, resp.Header.Get(header))
			}
		}
		if pause(ctx, done, 20*time.Millisecond) != nil {
			break
		}
	}
	var out []string
	for _, n := range names {
		if missing[n] {
			out = append(out, n)
		}
	}
	return out
}
