package config

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
)

// DiscoveryTypes returns the valid labels of a pool's discovery block, in
// a fresh slice the caller may keep.
func DiscoveryTypes() []string {
	return []string{DiscoveryDNS, DiscoveryEtcd}
}

// discoveryBlock is a `discovery "TYPE"` block inside a pool. Its body is
// decoded once the label has said which schema applies, so an attribute
// of the other kind is reported as unsupported.
type discoveryBlock struct {
	Type      string    `hcl:"type,label"`
	TypeRange hcl.Range `hcl:"type,label_range"`

	Body hcl.Body `hcl:",remain"`

	DeclRange hcl.Range `hcl:",def_range"`
}

// decodeDiscoveryBlocks decodes a pool's discovery blocks in file order
// and reports a block that reads the same source as an earlier one in the
// pool. A block with an unknown label is reported and left out.
func decodeDiscoveryBlocks(blocks []*discoveryBlock, pool string) ([]*Discovery, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	var out []*Discovery
	seen := make(map[string]*discoveryBlock, len(blocks))
	for _, b := range blocks {
		d, moreDiags := decodeDiscoveryBlock(b)
		diags = append(diags, moreDiags...)
		if d == nil {
			continue
		}
		out = append(out, d)
		key, what := d.sourceKey()
		if key == "" {
			continue
		}
		if first, dup := seen[key]; dup {
			diags = append(diags, errorf(b.DeclRange, "Duplicate discovery block",
				"This block reads %s, as the discovery %q block at %s already does in pool %q; every backend would be found twice. Remove one of them.",
				what, first.Type, lineOf(first.DeclRange), pool))
			continue
		}
		seen[key] = b
	}
	return out, diags
}

// decodeDiscoveryBlock decodes one discovery block by its label. It
// returns nil for an unknown label, after reporting it.
func decodeDiscoveryBlock(b *discoveryBlock) (*Discovery, hcl.Diagnostics) {
	d := &Discovery{Type: b.Type, DeclRange: b.DeclRange}
	var diags, moreDiags hcl.Diagnostics
	switch b.Type {
	case DiscoveryDNS:
		var raw dnsDiscoveryBlock
		diags = gohcl.DecodeBody(b.Body, nil, &raw)
		d.DNS, moreDiags = decodeDNSDiscovery(&raw, b.DeclRange)
	case DiscoveryEtcd:
		var raw etcdDiscoveryBlock
		diags = gohcl.DecodeBody(b.Body, nil, &raw)
		d.Etcd, moreDiags = decodeEtcdDiscovery(&raw, b.DeclRange)
	default:
		return nil, hcl.Diagnostics{errorf(b.TypeRange, "Unknown discovery type",
			"discovery %q is not supported; use one of %s, such as discovery %q { name = \"_http._tcp.web.service.internal\" }.",
			b.Type, strings.Join(quoteAll(DiscoveryTypes()), ", "), DiscoveryDNS)}
	}
	return d, append(diags, moreDiags...)
}

// sourceKey names the registry entry d reads, so that two blocks reading
// the same one compare equal: for dns the record type and name, for etcd
// the prefix and the set of endpoints (scheme, case and order ignored).
// what describes it for a diagnostic. key is "" when a required part did
// not decode, so no duplicate is reported on top of that error.
func (d *Discovery) sourceKey() (key, what string) {
	switch {
	case d.DNS != nil && d.DNS.Name != "" && d.DNS.Type != "":
		return "dns\x00" + d.DNS.Type + "\x00" + d.DNS.Name,
			fmt.Sprintf("the %s records of %q", strings.ToUpper(d.DNS.Type), d.DNS.Name)
	case d.Etcd != nil && d.Etcd.Prefix != "" && len(d.Etcd.Endpoints) > 0:
		return "etcd\x00" + d.Etcd.Prefix + "\x00" + strings.Join(endpointKeys(d.Etcd.Endpoints), ","),
			fmt.Sprintf("prefix %q from the same etcd endpoints", d.Etcd.Prefix)
	}
	return "", ""
}
