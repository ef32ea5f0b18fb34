package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// validateFile reports the problems that span blocks: no listener at all,
// two listeners or pools with one name, a listener or route naming a pool
// that is not declared, and two listen addresses that clash. Problems
// inside one block are reported by its decodeX function. cfg is what
// those made of f, block for block; values they rejected are empty and
// skipped here.
func validateFile(f *fileSchema, cfg *Config, fileStart hcl.Range) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if len(f.Listeners) == 0 {
		diags = append(diags, errorf(fileStart, "No listener",
			"The configuration needs at least one listener block, such as listener \"public\" with address = \"127.0.0.1:8080\" and pool = \"web\"."))
	}
	diags = append(diags, checkUniqueNames(f)...)
	diags = append(diags, checkPoolReferences(f, cfg)...)
	diags = append(diags, checkAddressClashes(f, cfg)...)
	diags = append(diags, checkRedirects(f, cfg)...)
	return diags
}

// checkUniqueNames reports a listener or pool whose name an earlier one
// of the same kind already has, pointing at the later one.
func checkUniqueNames(f *fileSchema) hcl.Diagnostics {
	var diags hcl.Diagnostics
	listeners := make(map[string]*listenerBlock, len(f.Listeners))
	for _, l := range f.Listeners {
		if first, dup := listeners[l.Name]; dup {
			diags = append(diags, errorf(l.NameRange, "Duplicate listener name",
				"A listener named %q is already declared at %s; give each listener its own name.", l.Name, lineOf(first.DeclRange)))
			continue
		}
		listeners[l.Name] = l
	}
	pools := make(map[string]*poolBlock, len(f.Pools))
	for _, p := range f.Pools {
		if first, dup := pools[p.Name]; dup {
			diags = append(diags, errorf(p.NameRange, "Duplicate pool name",
				"A pool named %q is already declared at %s; give each pool its own name, or merge their backends.", p.Name, lineOf(first.DeclRange)))
			continue
		}
		pools[p.Name] = p
	}
	return diags
}

// checkPoolReferences reports a listener's or route's pool that no pool
// block declares.
func checkPoolReferences(f *fileSchema, cfg *Config) hcl.Diagnostics {
	var declared []string
	for _, p := range cfg.Pools {
		if p.Name != "" && !slices.Contains(declared, p.Name) {
			declared = append(declared, p.Name)
		}
	}
	check := func(name string, rng hcl.Range, user string) hcl.Diagnostics {
		if name == "" || slices.Contains(declared, name) {
			return nil
		}
		known := "no pool is declared"
		if len(declared) > 0 {
			known = "declared pools: " + strings.Join(quoteAll(declared), ", ")
		}
		return hcl.Diagnostics{errorf(rng, "Unknown pool",
			"The %s sends requests to pool %q, which is not declared (%s). Declare it with a pool block or fix the name.",
			user, name, known)}
	}

	var diags hcl.Diagnostics
	for i, lb := range f.Listeners {
		l := cfg.Listeners[i]
		diags = append(diags, check(l.Pool, lb.Pool.Range(), fmt.Sprintf("listener %q", l.Name))...)
		for j, rb := range lb.Routes {
			diags = append(diags, check(l.Routes[j].Pool, rb.Pool.Range(), fmt.Sprintf("route at %s", lineOf(rb.DeclRange)))...)
		}
	}
	return diags
}

// endpoint is a listen address declared in the file.
type endpoint struct {
	owner string // "admin block", "listener \"public\""
	text  string // as written
	addr  hostPort
	rng   hcl.Range
}

// checkAddressClashes reports a listen address (admin or listener) that
// clashes with one declared earlier in the file, pointing at the later.
// Invalid addresses are reported by the decoders and skipped here.
func checkAddressClashes(f *fileSchema, cfg *Config) hcl.Diagnostics {
	var eps []endpoint
	add := func(owner, text string, rng hcl.Range) {
		if addr, err := parseHostPort(text); err == nil {
			eps = append(eps, endpoint{owner: owner, text: text, addr: addr, rng: rng})
		}
	}
	if cfg.Admin != nil {
		add("admin block", cfg.Admin.Address, f.Admin.Address.Range())
	}
	for i, l := range cfg.Listeners {
		add(fmt.Sprintf("listener %q", l.Name), l.Address, f.Listeners[i].Address.Range())
	}
	slices.SortStableFunc(eps, func(a, b endpoint) int { return a.rng.Start.Byte - b.rng.Start.Byte })

	var diags hcl.Diagnostics
	for j, later := range eps {
		for _, earlier := range eps[:j] {
			if !earlier.addr.clashes(later.addr) {
				continue
			}
			diags = append(diags, errorf(later.rng, "Address clash",
				"The %s listens on %q, which clashes with %q of the %s at %s; give each listener and the admin block its own address.",
				later.owner, later.text, earlier.text, earlier.owner, lineOf(earlier.rng)))
			break
		}
	}
	return diags
}

// quoteAll returns each string Go-quoted.
func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}
