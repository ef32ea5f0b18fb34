package config

import (
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Fleet is the `fleet` block: this lb instance shares its active health
// checks with the other instances of the same fleet through etcd (see the
// README, "Sharing health checks across instances"). Each backend is
// probed by Replicas of the live instances, chosen by rendezvous hashing;
// every instance applies the verdicts they publish. Without the block an
// instance probes every backend itself.
type Fleet struct {
	// Member is this instance's name in the fleet ("member"; default "":
	// the host name at run time, which is what a Kubernetes pod or a VM
	// is told apart by). No "/"; two live instances must not share it.
	Member string
	// Replicas is how many instances probe each backend ("replicas",
	// default DefaultFleetReplicas, at least 1).
	Replicas int
	// TTL is how long an instance that stops answering etcd stays in the
	// others' view, so how soon its backends get other owners ("ttl",
	// default DefaultFleetTTL; whole seconds, at least 1s).
	TTL time.Duration
	// Etcd is where the fleet lives: the block's `etcd { endpoints,
	// prefix, username, password_file, dial_timeout, tls }`, as in a
	// discovery "etcd" block. Its Prefix is the fleet's key prefix
	// (members/, verdicts/ and drains/ are under it): one per fleet.
	Etcd *EtcdDiscovery
	// DeclRange is where the block is declared.
	DeclRange hcl.Range
}

// Defaults of a fleet block.
const (
	// DefaultFleetReplicas is a fleet block's replicas when none is
	// written: two vantage points per backend, so one instance's death or
	// its own network trouble never leaves a backend unprobed or judged
	// from one place only.
	DefaultFleetReplicas = 2
	// DefaultFleetTTL is a fleet block's ttl when none is written.
	DefaultFleetTTL = 5 * time.Second
)

// fleetBlock is the fleet block as gohcl decodes it.
type fleetBlock struct {
	Member   hcl.Expression `hcl:"member,optional"`
	Replicas hcl.Expression `hcl:"replicas,optional"`
	TTL      hcl.Expression `hcl:"ttl,optional"`

	Etcd *etcdDiscoveryBlock `hcl:"etcd,block"`

	DeclRange hcl.Range `hcl:",def_range"`
}

// fleetEtcdWhat names the fleet's etcd block in diagnostics.
const fleetEtcdWhat = `fleet's etcd block`

// decodeFleetBlock decodes the fleet block.
func decodeFleetBlock(b *fleetBlock) (*Fleet, hcl.Diagnostics) {
	var diags, moreDiags hcl.Diagnostics
	f := &Fleet{DeclRange: b.DeclRange}
	f.Member, moreDiags = decodeText("member", b.Member, "")
	diags = append(diags, moreDiags...)
	if strings.Contains(f.Member, "/") {
		diags = append(diags, errorf(b.Member.Range(), "Invalid member name",
			"member %q contains \"/\", which the fleet's keys use as a separator; choose a name without it, such as %q.",
			f.Member, strings.ReplaceAll(f.Member, "/", "-")))
	}
	f.Replicas, moreDiags = decodeCount("replicas", b.Replicas, DefaultFleetReplicas, 1)
	diags = append(diags, moreDiags...)
	f.TTL, moreDiags = decodeDuration("ttl", b.TTL, DefaultFleetTTL)
	diags = append(diags, moreDiags...)
	if f.TTL > 0 && (f.TTL < time.Second || f.TTL%time.Second != 0) {
		diags = append(diags, errorf(b.TTL.Range(), "Invalid fleet ttl",
			"ttl is %s; etcd leases last whole seconds, so write a whole number of seconds of at least 1s, such as ttl = \"5s\".", f.TTL))
		f.TTL = 0
	}
	if b.Etcd == nil {
		return f, append(diags, errorf(b.DeclRange, "Missing etcd block",
			"The fleet block needs an etcd block saying where the fleet's shared state lives, such as etcd { endpoints = [\"127.0.0.1:2379\"] prefix = \"/lb/fleet/prod/\" }."))
	}
	f.Etcd, moreDiags = decodeEtcdBlock(b.Etcd, b.DeclRange, fleetEtcdWhat, `"/lb/fleet/prod/"`)
	return f, append(diags, moreDiags...)
}

// Equal reports whether f and o describe the same fleet membership: both
// nil, or every setting equal (the etcd block as Discovery.Equal compares
// it). Where the block is declared does not count. A reload that changes
// the fleet block needs a restart.
func (f *Fleet) Equal(o *Fleet) bool {
	if f == nil || o == nil {
		return f == o
	}
	return f.Member == o.Member && f.Replicas == o.Replicas && f.TTL == o.TTL && f.Etcd.equal(o.Etcd)
}
