package backend

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// SetFault switches the backend listening on addr (host:port) into mode
// through its control endpoint. It uses c, or http.DefaultClient when c
// is nil.
func SetFault(ctx context.Context, c *http.Client, addr string, m Mode) error {
	if c == nil {
		c = http.DefaultClient
	}
	u := "http://" + addr + "/_fault?mode=" + url.QueryEscape(m.String())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("backend %s: fault %s: %s %s", addr, m, resp.Status, body)
	}
	return nil
}
