package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/lbtrust/lb/bench/nofile"
	"github.com/lbtrust/lb/fleet"
)

// readyTimeout bounds how long the instances may take to connect, see
// each other and every backend healthy, and settle their ownership.
const readyTimeout = 3 * time.Minute

// pollEvery is how often a phase polls the instances or the probe log.
const pollEvery = 10 * time.Millisecond

// runner is one run: what it started and the instances now running.
type runner struct {
	s        settings
	bin      string
	dir      string
	cfg      lbConfig
	bk       *backends
	adm      *admin
	members  []string // lb1..lb(N+1): every name an instance may take
	lbs      []*lbInstance
	all      []*lbInstance // every instance ever started, to stop at the end
	progress func(string, ...any)
}

// run measures one fleet with settings s (validated) and returns its
// summary. lbBin is the lb binary ("": go build ./cmd/lb). Everything it
// starts is stopped before it returns, whatever happens; canceling ctx
// ends the run early with ctx's error.
func run(ctx context.Context, s settings, lbBin string, progress func(string, ...any)) (sum *summary, err error) {
	dir, err := os.MkdirTemp("", "sharedchecks-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	// This process holds a listener per backend and their probe
	// connections; the lb processes inherit the limit.
	if _, err := nofile.Raise(uint64(3*s.Backends + 1024)); err != nil {
		return nil, err
	}
	if lbBin == "" {
		progress("building cmd/lb")
		if lbBin, err = buildLB(dir); err != nil {
			return nil, err
		}
	}
	progress("starting etcd")
	etcd, err := startEtcd(dir)
	if err != nil {
		return nil, err
	}
	defer etcd.stop()
	r := &runner{s: s, bin: lbBin, dir: dir, adm: newAdmin(), progress: progress}
	defer r.adm.close()
	for i := range s.Instances + 1 {
		r.members = append(r.members, fmt.Sprintf("lb%d", i+1))
	}
	progress("starting %d backends", s.Backends)
	if r.bk, err = startBackends(s.Backends, r.members); err != nil {
		return nil, err
	}
	defer r.bk.stop()
	r.cfg = lbConfig{s: s, etcd: etcd.addr, backends: r.bk.addrs}
	defer r.stopAll()
	defer func() {
		if err != nil && ctx.Err() == nil {
			err = fmt.Errorf("%w%s", err, r.tails())
		}
	}()

	sum = &summary{Settings: s, CPUs: runtime.NumCPU()}
	progress("starting %d lb instances", s.Instances)
	for _, m := range r.members[:s.Instances] {
		if err := r.start(m); err != nil {
			return nil, err
		}
	}
	if err := r.waitSettled(ctx, r.lbs, readyTimeout); err != nil {
		return nil, err
	}
	progress("measuring the steady state for %s", s.Duration.D())
	if sum.Steady, err = r.steady(ctx); err != nil {
		return nil, err
	}
	progress("failing one backend")
	if sum.Fault, err = r.fault(ctx); err != nil {
		return nil, err
	}
	if s.Instances > 1 {
		progress("killing %s", r.lbs[len(r.lbs)-1].member)
		k, err := r.kill(ctx)
		if err != nil {
			return nil, err
		}
		sum.Kill = &k
	}
	progress("an instance joins")
	if sum.Join, err = r.join(ctx); err != nil {
		return nil, err
	}
	sum.Warnings = r.warnings()
	return sum, nil
}

// start starts an instance named member with a new configuration (new
// ports) and adds it to the running ones.
func (r *runner) start(member string) error {
	l, err := startLB(r.bin, r.dir, r.cfg, member)
	if err != nil {
		return err
	}
	r.lbs = append(r.lbs, l)
	r.all = append(r.all, l)
	return nil
}

// running is the member names of the running instances.
func (r *runner) running() []string {
	out := make([]string, len(r.lbs))
	for i, l := range r.lbs {
		out[i] = l.member
	}
	return out
}

// stopAll stops every instance ever started, at once.
func (r *runner) stopAll() {
	var wg sync.WaitGroup
	for _, l := range r.all {
		wg.Go(l.stop)
	}
	wg.Wait()
}

// tails is the last output lines of every instance, for an error.
func (r *runner) tails() string {
	var out string
	for _, l := range r.all {
		out += fmt.Sprintf("\n--- %s (last lines)\n%s", l.member, l.out.tail())
	}
	return out
}

// warnings collects the instances' warning and error log lines by
// message.
func (r *runner) warnings() map[string]int {
	out := map[string]int{}
	for _, l := range r.all {
		for k, v := range l.out.counts() {
			out[l.member+" "+k] += v
		}
	}
	return out
}

// owners is backend i's owners among members.
func (r *runner) owners(i int, members []string) []string {
	return fleet.Owners(poolName+"/"+r.bk.addrs[i], members, r.s.Replicas)
}

// waitSettled waits until every instance of lbs is connected, sees
// exactly their members, shows every backend healthy and ownership has
// settled (each backend owned min(replicas, instances) times, none
// adopted), then two more intervals.
func (r *runner) waitSettled(ctx context.Context, lbs []*lbInstance, within time.Duration) error {
	want := make([]string, len(lbs))
	for i, l := range lbs {
		want[i] = l.member
	}
	slices.Sort(want)
	owned := r.s.Backends * min(r.s.Replicas, len(lbs))
	var last string
	err := poll(ctx, within, 100*time.Millisecond, func() (bool, error) {
		sumOwned := 0
		for _, l := range lbs {
			if l.proc.Exited() {
				return false, fmt.Errorf("%s exited: %v", l.member, l.proc.Err())
			}
			v, err := r.adm.status(ctx, l)
			if err != nil {
				last = err.Error()
				return false, nil
			}
			f := v.Fleet
			if !f.Connected || !slices.Equal(f.Members, want) {
				last = fmt.Sprintf("%s: connected %v, members %v", l.member, f.Connected, f.Members)
				return false, nil
			}
			healthy := 0
			for _, st := range v.states() {
				if st == "healthy" {
					healthy++
				}
			}
			if healthy != r.s.Backends {
				last = fmt.Sprintf("%s: %d of %d backends healthy", l.member, healthy, r.s.Backends)
				return false, nil
			}
			if f.Adopted != 0 {
				last = fmt.Sprintf("%s: %d backends adopted", l.member, f.Adopted)
				return false, nil
			}
			sumOwned += f.Owned
		}
		if sumOwned != owned {
			last = fmt.Sprintf("%d backends owned in all, want %d", sumOwned, owned)
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for %v to settle: %w (last seen: %s)", want, err, last)
	}
	return sleep(ctx, 2*r.s.Interval.D())
}

// errTimeout is a poll that did not see its condition in time.
var errTimeout = errors.New("timed out")

// poll calls cond every every until it returns true or an error, ctx
// ends or within has passed (errTimeout).
func poll(ctx context.Context, within, every time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(within)
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return errTimeout
		}
		if err := sleep(ctx, every); err != nil {
			return err
		}
	}
}

// sleep waits d or until ctx ends (its error).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
