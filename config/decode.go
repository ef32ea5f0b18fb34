package config

import "github.com/hashicorp/hcl/v2"

// decodeFile turns the gohcl-decoded file into a Config, applying
// defaults, and reports every problem in it. fileStart is where to point
// problems that concern the file as a whole.
func decodeFile(f *fileSchema, fileStart hcl.Range) (*Config, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	cfg := &Config{}

	if f.Admin != nil {
		admin, moreDiags := decodeAdminBlock(f.Admin)
		diags = append(diags, moreDiags...)
		cfg.Admin = admin
	}
	for _, b := range f.Listeners {
		l, moreDiags := decodeListenerBlock(b)
		diags = append(diags, moreDiags...)
		cfg.Listeners = append(cfg.Listeners, l)
	}
	for _, b := range f.Pools {
		p, moreDiags := decodePoolBlock(b)
		diags = append(diags, moreDiags...)
		cfg.Pools = append(cfg.Pools, p)
	}

	if f.Fleet != nil {
		fl, moreDiags := decodeFleetBlock(f.Fleet)
		diags = append(diags, moreDiags...)
		cfg.Fleet = fl
	}

	diags = append(diags, validateFile(f, cfg, fileStart)...)
	return cfg, diags
}
