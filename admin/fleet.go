package admin

import "fmt"

// FleetState is this instance's place in a fleet of lb instances that
// share their health checks through etcd, as /status shows it (under
// "fleet") and /readyz summarises it (check "fleet", which never fails
// readiness: an instance that cannot reach etcd probes every backend
// itself and keeps serving).
type FleetState struct {
	// Member is this instance's name; Prefix the fleet's etcd prefix.
	Member string `json:"member"`
	Prefix string `json:"prefix"`
	// Connected is false while etcd cannot be reached: the instance then
	// counts as the whole fleet and probes every backend itself.
	Connected bool `json:"connected"`
	// Members are the live members this instance sees, sorted: just
	// itself while etcd is unreachable, none before the first read.
	Members []string `json:"members"`
	// Replicas is how many members probe each backend.
	Replicas int `json:"replicas"`
	// Backends is how many backends the fleet shares here; Owned how
	// many of them this instance probes as one of their owners; Adopted
	// how many it probes because no owner has published a verdict on
	// them (a configuration the others do not have); Local how many it
	// probes only to bring back a backend its own traffic held out.
	Backends int `json:"backends"`
	Owned    int `json:"owned"`
	Adopted  int `json:"adopted"`
	Local    int `json:"local"`
	// Writes counts the verdict puts and deletes this instance made;
	// Events the watch events it received (its own writes included).
	Writes uint64 `json:"writes"`
	Events uint64 `json:"events"`
}

// readyDetail is the fleet's line in /readyz.
func (f *FleetState) readyDetail() string {
	if len(f.Members) == 0 {
		return fmt.Sprintf("member %s joining: no member set read from etcd yet", f.Member)
	}
	if !f.Connected {
		return fmt.Sprintf("etcd unreachable: member %s probes all %d backends itself until it is back", f.Member, f.Backends)
	}
	return fmt.Sprintf("member %s of %d; probes %d of %d backends (replicas %d)",
		f.Member, len(f.Members), f.Owned+f.Adopted+f.Local, f.Backends, f.Replicas)
}
