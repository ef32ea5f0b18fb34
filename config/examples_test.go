package config

import (
	"path/filepath"
	"testing"
)

// TestExamplesLoad: every configuration under examples/ loads without an
// error, so the files the README points to stay valid as the schema
// grows. Warnings are allowed here (cmd/lb's validate tests hold the
// examples they run to none).
func TestExamplesLoad(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "examples", "*.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no examples/*.hcl found")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			cfg, diags := Load(path)
			for _, d := range diags {
				t.Logf("%s", d.Error())
			}
			if diags.HasErrors() || cfg == nil {
				t.Fatalf("%s does not load", path)
			}
		})
	}
}

// TestDiscoveryExample: examples/discovery.hcl shows both kinds of
// discovery, and a pool that has no backend block.
func TestDiscoveryExample(t *testing.T) {
	cfg, diags := Load(filepath.Join("..", "examples", "discovery.hcl"))
	mustNoDiags(t, diags)
	kinds := map[string]bool{}
	for _, p := range cfg.Pools {
		for _, d := range p.Discovery {
			kinds[d.Type] = true
		}
	}
	if !kinds[DiscoveryDNS] || !kinds[DiscoveryEtcd] {
		t.Errorf("discovery kinds shown: %v, want dns and etcd", kinds)
	}
	if api := cfg.Pool("api"); api == nil || len(api.Backends) != 0 || len(api.Discovery) == 0 {
		t.Errorf("pool api should be found by discovery alone")
	}
}
