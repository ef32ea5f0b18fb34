package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	adminapi "github.com/lbtrust/lb/admin"
)

// fleetState is /status's "fleet" object, as the admin writes it.
type fleetState = adminapi.FleetState

// statusView is the part of /status the tool reads.
type statusView struct {
	Fleet *fleetState `json:"fleet"`
	Pools []struct {
		Name     string `json:"name"`
		Backends []struct {
			Address string `json:"address"`
			State   string `json:"state"`
		} `json:"backends"`
	} `json:"pools"`
}

// states maps pool "web"'s backends to their state.
func (v *statusView) states() map[string]string {
	out := map[string]string{}
	for _, p := range v.Pools {
		if p.Name != poolName {
			continue
		}
		for _, b := range p.Backends {
			out[b.Address] = b.State
		}
	}
	return out
}

// admin reads lb instances' admin API. Safe for concurrent use.
type admin struct {
	c *http.Client
}

func newAdmin() *admin {
	return &admin{c: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}}
}

// close closes the idle connections.
func (a *admin) close() { a.c.CloseIdleConnections() }

// getJSON GETs http://addr+path into v.
func (a *admin) getJSON(ctx context.Context, addr, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return err
	}
	resp, err := a.c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s%s: %s", addr, path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// status reads an instance's /status.
func (a *admin) status(ctx context.Context, l *lbInstance) (*statusView, error) {
	var v statusView
	if err := a.getJSON(ctx, l.admin, "/status", &v); err != nil {
		return nil, err
	}
	if v.Fleet == nil {
		return nil, fmt.Errorf("%s: /status has no fleet section", l.member)
	}
	return &v, nil
}

// counts are fleet.writes and fleet.events (or their deltas).
type counts struct {
	Writes uint64 `json:"writes"`
	Events uint64 `json:"events"`
}

// counters reads each instance's fleet.writes and fleet.events, by
// member.
func (a *admin) counters(ctx context.Context, lbs []*lbInstance) (map[string]counts, error) {
	out := make(map[string]counts, len(lbs))
	for _, l := range lbs {
		v, err := a.status(ctx, l)
		if err != nil {
			return nil, err
		}
		out[l.member] = counts{Writes: v.Fleet.Writes, Events: v.Fleet.Events}
	}
	return out, nil
}

// delta is, by member of to, to's counts less from's (0 for a member
// from lacks: an instance started since), and their sum.
func delta(from, to map[string]counts) (by map[string]counts, sum counts) {
	by = make(map[string]counts, len(to))
	for m, c := range to {
		d := counts{Writes: c.Writes - from[m].Writes, Events: c.Events - from[m].Events}
		by[m] = d
		sum.Writes += d.Writes
		sum.Events += d.Events
	}
	return by, sum
}

// event is one entry of /events.
type event struct {
	Time    time.Time `json:"time"`
	Kind    string    `json:"kind"`
	Pool    string    `json:"pool"`
	Backend string    `json:"backend"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	Reason  string    `json:"reason"`
	By      string    `json:"by"`
}

// transitionTo returns the instance's transition of backend to state at
// or after since, from its newest events about backend; ok is false
// when there is none (yet).
func (a *admin) transitionTo(ctx context.Context, l *lbInstance, backend, state string, since time.Time) (ev event, ok bool, err error) {
	var v struct {
		Events []event `json:"events"`
	}
	if err := a.getJSON(ctx, l.admin, "/events?limit=5&backend="+url.QueryEscape(backend), &v); err != nil {
		return event{}, false, err
	}
	// Newest first: the oldest matching one after since is the answer.
	for i := len(v.Events) - 1; i >= 0; i-- {
		e := v.Events[i]
		if e.Kind == "transition" && e.Pool == poolName && e.To == state && !e.Time.Before(since) {
			return e, true, nil
		}
	}
	return event{}, false, nil
}
