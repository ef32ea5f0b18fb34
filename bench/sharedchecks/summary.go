package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// summary is everything one run measured (-json prints it as is).
type summary struct {
	Settings settings     `json:"settings"`
	CPUs     int          `json:"cpus"`
	Steady   steadyResult `json:"steady"`
	Fault    faultResult  `json:"fault"`
	// Kill is absent with one instance (no one to take over).
	Kill *killResult `json:"kill,omitempty"`
	Join joinResult  `json:"join"`
	// Warnings are the instances' warning and error log lines, by
	// "member level: message".
	Warnings map[string]int `json:"warnings"`
}

// ms writes a duration in seconds with milliseconds.
func ms(m Millis) string { return fmt.Sprintf("%.3fs", m.D().Seconds()) }

// text is the summary for people.
func (s *summary) text() string {
	var b strings.Builder
	st := s.Settings
	fmt.Fprintf(&b, "shared health checks: %d lb instances, %d backends, interval %s (timeout %s), replicas %d, ttl %s, unhealthy_threshold %d, healthy_threshold %d, %d CPUs\n",
		st.Instances, st.Backends, st.Interval.D(), st.Timeout.D(), st.Replicas, st.TTL.D(), st.Unhealthy, st.Healthy, s.CPUs)

	sd := s.Steady
	fmt.Fprintf(&b, "\nsteady state (%s, %.1f intervals, ownership settled)\n", ms(sd.Window), sd.Intervals)
	fmt.Fprintf(&b, "  probes          %d: %.2f per backend per interval (want min(replicas, instances) = %d)\n",
		sd.Probes, sd.PerBackendPerInterval, min(st.Replicas, st.Instances))
	fmt.Fprintf(&b, "  probers         per backend min %g, median %g, max %g; %d probes from non-owners (on %d backends), %d backends unprobed\n",
		sd.Probers.Min, sd.Probers.Median, sd.Probers.Max, sd.NonOwnerProbes, sd.NonOwnerBackends, sd.Unprobed)
	fmt.Fprintf(&b, "  owned           %s\n", mapText(sd.Owned))
	fmt.Fprintf(&b, "  etcd            %d writes (%.2f/s), %d watch events (%.2f/s)\n", sd.Writes, sd.WritesPerSecond, sd.Events, sd.EventsPerSecond)

	f := s.Fault
	fmt.Fprintf(&b, "\none backend fails its probes (503): %s, owners %s\n", f.Backend, strings.Join(f.Owners, " "))
	agreementText(&b, "unhealthy", f.Down, st.Interval.D()*time.Duration(st.Unhealthy))
	fmt.Fprintf(&b, "  it passes again\n")
	agreementText(&b, "healthy", f.Up, st.Interval.D()*time.Duration(st.Healthy))

	if k := s.Kill; k != nil {
		fmt.Fprintf(&b, "\n%s killed (SIGKILL): it owned %d backends, %d of them get a new owner\n", k.Victim, k.Owned, k.Heirs)
		fmt.Fprintf(&b, "  left the view   of every survivor after %s (ttl %s)\n", ms(k.Left), st.TTL.D())
		if k.Heirs > 0 {
			fmt.Fprintf(&b, "  re-ownership    new owner's first probe after max %s, median %s, min %s (%d of %d; %d never within the wait)\n",
				ms(k.FirstProbe.Max), ms(k.FirstProbe.Median), ms(k.FirstProbe.Min), k.FirstProbe.N, k.Heirs, k.Missing)
		} else {
			fmt.Fprintf(&b, "  re-ownership    none needed: %d survivors, replicas %d\n", st.Instances-1, st.Replicas)
		}
		fmt.Fprintf(&b, "  longest gap     without any probe: max %s, median %s (over its %d backends)\n", ms(k.Gap.Max), ms(k.Gap.Median), k.Gap.N)
		fmt.Fprintf(&b, "  etcd            %d writes, %d watch events (survivors, over %s)\n", k.Writes, k.Events, ms(k.Window))
		fmt.Fprintf(&b, "  by instance     writes/events %s\n", countsText(k.ByInstance))
	}

	j := s.Join
	how := "starts"
	if j.Restarted {
		how = "restarted"
	}
	fmt.Fprintf(&b, "\n%s %s and joins: ownership moves for %d backends (%d owner changes)\n", j.Member, how, j.Moved, j.Changes)
	fmt.Fprintf(&b, "  joined          connected and listed by every instance %s after its start\n", ms(j.Joined))
	fmt.Fprintf(&b, "  etcd            %d writes, %d watch events (from its start to %s after it joined, %s)\n",
		j.Writes, j.Events, st.JoinWindow.D(), ms(j.Window))
	var per []string
	for _, c := range j.PerSecond {
		per = append(per, fmt.Sprintf("%d/%d", c.Writes, c.Events))
	}
	fmt.Fprintf(&b, "  by second       writes/events %s (the first includes the join itself)\n", strings.Join(per, ", "))
	fmt.Fprintf(&b, "  by instance     writes/events %s\n", countsText(j.ByInstance))
	fmt.Fprintf(&b, "  owned then      %s\n", mapText(j.Owned))
	fmt.Fprintf(&b, "  then            %.2f probes per backend per interval\n", j.Probes)

	if len(s.Warnings) > 0 {
		fmt.Fprintf(&b, "\nlb warnings and errors logged\n")
		for _, k := range slices.Sorted(maps.Keys(s.Warnings)) {
			fmt.Fprintf(&b, "  %5d  %s\n", s.Warnings[k], k)
		}
	}
	return b.String()
}

// agreementText writes one agreement; decide is interval × threshold.
func agreementText(b *strings.Builder, state string, a agreement, decide time.Duration) {
	var per []string
	for _, it := range a.Instances {
		tag := ""
		switch {
		case it.Owner && it.By == it.Member:
			tag = " (owner, own verdict)"
		case it.Owner:
			tag = " (owner, " + it.By + "'s verdict)"
		default:
			tag = " (" + it.By + "'s verdict)"
		}
		per = append(per, fmt.Sprintf("%s %s%s", it.Member, ms(it.After), tag))
	}
	confirmed := "confirmed by every /status"
	if !a.Confirmed {
		confirmed = "NOT confirmed by every /status"
	}
	fmt.Fprintf(b, "  agreement       every instance %s after %s (interval × threshold = %s; %s)\n", state, ms(a.All), decide, confirmed)
	fmt.Fprintf(b, "                  %s\n", strings.Join(per, "; "))
	fmt.Fprintf(b, "                  deciding probe started %s after the change\n", ms(a.Decided))
	fmt.Fprintf(b, "  etcd            %d writes, %d watch events (over %s)\n", a.Writes, a.Events, ms(a.Window))
}

// countsText writes m as "k w/e, k w/e" in key order.
func countsText(m map[string]counts) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d/%d", k, m[k].Writes, m[k].Events))
	}
	return strings.Join(parts, ", ")
}

// mapText writes m as "k v, k v" in key order.
func mapText(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
