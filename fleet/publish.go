package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// maxTxnOps is how many writes the writer puts in one transaction: well
// under etcd's default --max-txn-ops (128), so a new session republishing
// a thousand verdicts takes a few round trips, not a thousand.
const maxTxnOps = 64

// Publish makes v this instance's verdict on v.Target (v.Member is set to
// Name). It never blocks: the verdict is visible through Verdicts at
// once, and the session's writer puts it under the member's lease as soon
// as etcd is reachable (writes of one target coalesce; a new session
// republishes every verdict under its new lease). Safe for concurrent
// use.
func (m *Membership) Publish(v Verdict) {
	v.Member = m.cfg.Name
	m.mu.Lock()
	if old, ok := m.mine[v.Target]; ok && old == v {
		m.mu.Unlock()
		return
	}
	m.mine[v.Target] = v
	m.pending[v.Target] = true
	m.mu.Unlock()
	m.wakeWriter()
}

// Withdraw removes this instance's verdict on t (it no longer owns t's
// checks). Like Publish it never blocks.
func (m *Membership) Withdraw(t Target) {
	m.mu.Lock()
	if _, ok := m.mine[t]; !ok {
		m.mu.Unlock()
		return
	}
	delete(m.mine, t)
	m.pending[t] = true
	m.mu.Unlock()
	m.wakeWriter()
}

// Mine returns this instance's own verdict on t, if it has published one.
func (m *Membership) Mine(t Target) (Verdict, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.mine[t]
	return v, ok
}

// wakeWriter signals the writer without blocking.
func (m *Membership) wakeWriter() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// republishLocked marks every own verdict for writing: a new lease needs
// them all again. Pending withdrawals stay pending. m.mu must be held.
func (m *Membership) republishLocked() {
	for t := range m.mine {
		m.pending[t] = true
	}
}

// takePendingLocked returns the pending writes (a verdict to put, or a
// withdrawal when put is false) and clears them. m.mu must be held.
func (m *Membership) takePendingLocked() []pendingWrite {
	if len(m.pending) == 0 {
		return nil
	}
	out := make([]pendingWrite, 0, len(m.pending))
	for t := range m.pending {
		v, ok := m.mine[t]
		out = append(out, pendingWrite{target: t, verdict: v, put: ok})
	}
	clear(m.pending)
	return out
}

// pendingWrite is one write the writer owes etcd.
type pendingWrite struct {
	target  Target
	verdict Verdict
	put     bool
}

// writer puts the pending verdicts under lease until ctx ends or a write
// fails; a failure is sent on errc (the session then ends) and the writes
// it did not make are pending again.
func (m *Membership) writer(ctx context.Context, cli *clientv3.Client, lease clientv3.LeaseID, errc chan<- error) {
	for {
		m.mu.Lock()
		writes := m.takePendingLocked()
		m.mu.Unlock()
		if len(writes) > 0 {
			if err := m.write(ctx, cli, lease, writes); err != nil {
				m.mu.Lock()
				for _, w := range writes {
					m.pending[w.target] = true
				}
				m.mu.Unlock()
				if ctx.Err() == nil {
					errc <- err
				}
				return
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-m.wake:
		}
	}
}

// write makes writes in transactions of at most maxTxnOps.
func (m *Membership) write(ctx context.Context, cli *clientv3.Client, lease clientv3.LeaseID, writes []pendingWrite) error {
	ops := make([]clientv3.Op, 0, min(len(writes), maxTxnOps))
	for start := 0; start < len(writes); start += maxTxnOps {
		ops = ops[:0]
		for _, w := range writes[start:min(start+maxTxnOps, len(writes))] {
			key := verdictKey(m.cfg.Prefix, w.target, m.cfg.Name)
			if !w.put {
				ops = append(ops, clientv3.OpDelete(key))
				continue
			}
			value, err := json.Marshal(w.verdict)
			if err != nil {
				return fmt.Errorf("encoding the verdict on %s: %w", key, err)
			}
			ops = append(ops, clientv3.OpPut(key, string(value), clientv3.WithLease(lease)))
		}
		rctx, cancel := context.WithTimeout(ctx, RequestTimeout)
		_, err := cli.Txn(rctx).Then(ops...).Commit()
		cancel()
		if err != nil {
			return fmt.Errorf("writing %d verdicts: %w", len(ops), err)
		}
		m.writes.Add(uint64(len(ops)))
	}
	return nil
}

// Writes is how many verdict puts and deletes this instance has made in
// etcd since it started (for /metrics and the scale figures).
func (m *Membership) Writes() uint64 { return m.writes.Load() }

// Events is how many watch events (any key under the prefix, this
// instance's own writes included) this instance has received.
func (m *Membership) Events() uint64 { return m.events.Load() }

// Drain publishes an operator's drain of t, issued through this instance,
// so that every member drains it (the key has no lease: the drain
// outlives this instance until Undrain). It fails when etcd cannot be
// reached within ctx or RequestTimeout; the caller has drained t locally
// already.
func (m *Membership) Drain(ctx context.Context, t Target) error {
	cli := m.cli.Load()
	if cli == nil || !m.Connected() {
		return ErrNotConnected
	}
	value, err := json.Marshal(Drain{Member: m.cfg.Name, At: time.Now()})
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, RequestTimeout)
	defer cancel()
	if _, err := cli.Put(rctx, drainKey(m.cfg.Prefix, t), string(value)); err != nil {
		return fmt.Errorf("fleet: publishing the drain of %s in %s: %w", t.Backend, t.Pool, err)
	}
	return nil
}

// Undrain lifts a published drain of t, whichever member issued it.
func (m *Membership) Undrain(ctx context.Context, t Target) error {
	cli := m.cli.Load()
	if cli == nil || !m.Connected() {
		return ErrNotConnected
	}
	rctx, cancel := context.WithTimeout(ctx, RequestTimeout)
	defer cancel()
	if _, err := cli.Delete(rctx, drainKey(m.cfg.Prefix, t)); err != nil {
		return fmt.Errorf("fleet: lifting the drain of %s in %s: %w", t.Backend, t.Pool, err)
	}
	return nil
}
