package server

import (
	"fmt"

	"github.com/lbtrust/lb/admin"
	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/events"
	"github.com/lbtrust/lb/pool"
	"go.uber.org/zap"
)

// The event trail. Every transition, reload attempt and operator drain or
// undrain is one events.Event in lb.events and one log line:
//
//   - transitions are logged by their pool (once, "backend state changed")
//     and recorded here from onTransition;
//   - reloads are logged by Reload/ReloadFile and recorded by recordReload;
//   - operator drains and undrains are logged and recorded by
//     recordOperator.
//
// An action's event is recorded when it completes, so in the newest-first
// list it sits above the transitions it caused (an operator drain above
// its healthy -> draining, a reload above its removals).

// eventBuffer is the event ring capacity cfg asks for.
func eventBuffer(cfg *config.Config) int {
	if cfg.Admin == nil || cfg.Admin.EventBuffer < 1 {
		return config.DefaultEventBuffer
	}
	return cfg.Admin.EventBuffer
}

// recordTransition adds t to the event trail. It is called from
// onTransition (outside pool locks, maybe with lb.mu held, maybe on a
// checker's goroutine): the ring takes only its own lock. The pool has
// logged t already.
func (lb *LB) recordTransition(t pool.Transition) {
	detail := t.Detail
	if t.Removed && detail == "" {
		detail = "forgotten: its drain ended after a reload removed it"
	}
	lb.events.Add(events.Event{
		Time:           t.At,
		Kind:           events.KindTransition,
		Pool:           t.Pool,
		Backend:        t.Backend,
		From:           t.From.String(),
		To:             t.To.String(),
		Reason:         string(t.Reason),
		Detail:         detail,
		By:             t.By,
		ProbeLatencyMS: float64(t.ProbeLatency) / 1e6,
		InFlight:       t.InFlight,
	})
}

// recordReload adds a reload attempt to the event trail; Reload and
// ReloadFile have logged it.
func (lb *LB) recordReload(st admin.ReloadStatus) {
	e := events.Event{
		Time:        st.At,
		Kind:        events.KindReload,
		Reason:      events.ReloadApplied,
		Detail:      st.Error,
		Changes:     st.Changes,
		Diagnostics: st.Diagnostics,
	}
	switch {
	case st.OK:
	case len(st.Diagnostics) > 0:
		e.Reason = events.ReloadInvalidConfiguration
	default:
		e.Reason = events.ReloadRefused
	}
	lb.events.Add(e)
}

// recordOperator logs and records an operator's drain or undrain of a
// backend that went from before to after.
func (lb *LB) recordOperator(kind events.Kind, poolName string, before, after pool.BackendStatus) {
	msg, reason := "operator drained backend", pool.ReasonAdminDrain
	if kind == events.KindUndrain {
		msg, reason = "operator lifted drain", pool.ReasonAdminUndrain
	}
	lb.log.Info(msg, zap.String("pool", poolName), zap.String("backend", after.Address),
		zap.Stringer("from", before.State), zap.Stringer("to", after.State), zap.Int64("in_flight", after.InFlight))
	lb.events.Add(events.Event{
		Kind:     kind,
		Pool:     poolName,
		Backend:  after.Address,
		From:     before.State.String(),
		To:       after.State.String(),
		Reason:   string(reason),
		InFlight: after.InFlight,
	})
}

// applyAdminLocked applies what a reload may change live in the admin
// block (the token, the event buffer size, pprof, ready_pools) and returns changes
// with those added. The token itself never appears in a change.
func (lb *LB) applyAdminLocked(prev, next *config.Admin, changes []string) []string {
	if prev == nil || next == nil || lb.admin == nil {
		return changes // adding or removing the block was refused
	}
	var more []string
	if prev.EventBuffer != next.EventBuffer {
		lb.events.SetCapacity(next.EventBuffer)
		more = append(more, fmt.Sprintf("admin: event_buffer %d -> %d", prev.EventBuffer, next.EventBuffer))
	}
	if prev.Token != next.Token {
		lb.admin.handler.SetToken(string(next.Token))
		switch {
		case next.Token == "":
			more = append(more, "admin: token removed; mutating endpoints need none")
		case prev.Token == "":
			more = append(more, "admin: token set; mutating endpoints need it")
		default:
			more = append(more, "admin: token changed")
		}
	}
	if prev.Pprof != next.Pprof {
		lb.admin.handler.SetPprof(next.Pprof)
		more = append(more, fmt.Sprintf("admin: pprof %v -> %v", prev.Pprof, next.Pprof))
	}
	if poolReadiness(prev.ReadyPools) != poolReadiness(next.ReadyPools) {
		lb.admin.handler.SetReadyPools(poolReadiness(next.ReadyPools))
		more = append(more, fmt.Sprintf("admin: ready_pools %s -> %s", poolReadiness(prev.ReadyPools), poolReadiness(next.ReadyPools)))
	}
	if len(more) == 0 {
		return changes
	}
	if len(changes) == 1 && changes[0] == "no change" {
		changes = nil
	}
	return append(changes, more...)
}
