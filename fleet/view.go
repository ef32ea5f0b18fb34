package fleet

import (
	"maps"
	"slices"

	"go.uber.org/zap"
)

// Listener is told what changed in the fleet's shared state. Its methods
// are called on the Membership's goroutine, one at a time, never with a
// lock of the Membership held; they must not block for long (a slow
// listener delays the watch, not etcd).
type Listener interface {
	// VerdictsChanged: another member's verdict on t was published,
	// changed or withdrawn (Verdicts(t) has the new set).
	VerdictsChanged(t Target)
	// DrainChanged: an operator's drain of t was issued or lifted
	// (Drained(t) has it).
	DrainChanged(t Target)
}

// view is what the session read and watched of other members' verdicts
// and of the drains. Guarded by Membership.mu.
type view struct {
	verdicts map[Target][]Verdict // other members' verdicts, one per member
	drains   map[Target]Drain
}

func newView() view {
	return view{verdicts: map[Target][]Verdict{}, drains: map[Target]Drain{}}
}

// setVerdict records v (put) or removes member's verdict on t; it reports
// whether the set changed.
func (w *view) setVerdict(t Target, member string, v Verdict, put bool) bool {
	vs := w.verdicts[t]
	i := slices.IndexFunc(vs, func(x Verdict) bool { return x.Member == member })
	switch {
	case put && i >= 0:
		if vs[i] == v {
			return false
		}
		vs = slices.Clone(vs) // readers may hold the old slice
		vs[i] = v
	case put:
		vs = append(slices.Clip(vs), v)
	case i >= 0:
		vs = slices.Delete(slices.Clone(vs), i, i+1)
	default:
		return false
	}
	if len(vs) == 0 {
		delete(w.verdicts, t)
	} else {
		w.verdicts[t] = vs
	}
	return true
}

// setDrain records d (put) or removes the drain of t; it reports whether
// it changed.
func (w *view) setDrain(t Target, d Drain, put bool) bool {
	old, had := w.drains[t]
	if put {
		if had && old == d {
			return false
		}
		w.drains[t] = d
		return true
	}
	delete(w.drains, t)
	return had
}

// differences lists the targets whose verdicts, and those whose drains,
// differ between w and next.
func (w *view) differences(next view) (verdicts, drains []Target) {
	for t, vs := range next.verdicts {
		if !slices.Equal(vs, w.verdicts[t]) {
			verdicts = append(verdicts, t)
		}
	}
	for t := range w.verdicts {
		if _, ok := next.verdicts[t]; !ok {
			verdicts = append(verdicts, t)
		}
	}
	for t, d := range next.drains {
		if old, ok := w.drains[t]; !ok || old != d {
			drains = append(drains, t)
		}
	}
	for t := range w.drains {
		if _, ok := next.drains[t]; !ok {
			drains = append(drains, t)
		}
	}
	return verdicts, drains
}

// Verdicts returns the published verdicts on t: this instance's own (from
// memory, current at once) and the other members' as last read from
// etcd. The slice is the caller's. Safe for concurrent use.
func (m *Membership) Verdicts(t Target) []Verdict {
	m.mu.Lock()
	defer m.mu.Unlock()
	vs := slices.Clone(m.others.verdicts[t])
	if v, ok := m.mine[t]; ok {
		vs = append(vs, v)
	}
	return vs
}

// AppendVerdicts is Verdicts appending to dst (which may be reused across
// calls, so a sweep over every target allocates nothing once dst has
// grown). Safe for concurrent use.
func (m *Membership) AppendVerdicts(dst []Verdict, t Target) []Verdict {
	m.mu.Lock()
	defer m.mu.Unlock()
	dst = append(dst, m.others.verdicts[t]...)
	if v, ok := m.mine[t]; ok {
		dst = append(dst, v)
	}
	return dst
}

// Drained returns the operator's drain of t, if one is published.
func (m *Membership) Drained(t Target) (Drain, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.others.drains[t]
	return d, ok
}

// Drains returns every published drain, in no order.
func (m *Membership) Drains() []Drain {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Collect(maps.Values(m.others.drains))
}

// record applies one key's put (value) or delete to the view and returns
// what the listener must hear of: the target and whether it is a drain.
// Keys of this instance's own verdicts are skipped (Verdicts reads them
// from memory); a value that does not decode is logged and skipped.
func (m *Membership) record(w *view, key string, value []byte, put bool) (t Target, drain, changed bool) {
	k := parseKey(m.cfg.Prefix, key)
	switch k.kind {
	case keyVerdict:
		if k.member == m.cfg.Name {
			return Target{}, false, false
		}
		var v Verdict
		if put {
			var err error
			if v, err = decodeVerdict(k, value); err != nil {
				m.log.Warn("fleet: skipping a verdict that does not decode", zap.String("key", key), zap.Error(err))
				return Target{}, false, false
			}
		}
		return k.target, false, w.setVerdict(k.target, k.member, v, put)
	case keyDrain:
		var d Drain
		if put {
			var err error
			if d, err = decodeDrain(k, value); err != nil {
				m.log.Warn("fleet: skipping a drain that does not decode", zap.String("key", key), zap.Error(err))
				return Target{}, false, false
			}
		}
		return k.target, true, w.setDrain(k.target, d, put)
	}
	return Target{}, false, false
}
