package config

import "github.com/hashicorp/hcl/v2"

// decodePassiveBlock decodes a pool's passive block; b is nil when the
// pool has none, which gives every default (passive ejection on).
func decodePassiveBlock(b *passiveBlock) (Passive, hcl.Diagnostics) {
	if b == nil {
		return defaultPassive(), nil
	}
	var diags, moreDiags hcl.Diagnostics
	ps := Passive{DeclRange: b.DeclRange}

	ps.Enabled, moreDiags = decodeFlag(b.Enabled, DefaultPassiveEnabled)
	diags = append(diags, moreDiags...)

	ps.ConsecutiveFailures, moreDiags = decodeCount("consecutive_failures", b.ConsecutiveFailures, DefaultConsecutiveFailures, 1)
	diags = append(diags, moreDiags...)
	ps.ConsecutiveTimeouts, moreDiags = decodeCount("consecutive_timeouts", b.ConsecutiveTimeouts, DefaultConsecutiveTimeouts, 1)
	diags = append(diags, moreDiags...)

	ps.BaseEjection, moreDiags = decodeDuration("base_ejection", b.BaseEjection, DefaultBaseEjection)
	diags = append(diags, moreDiags...)
	ps.MaxEjection, moreDiags = decodeDuration("max_ejection", b.MaxEjection, DefaultMaxEjection)
	diags = append(diags, moreDiags...)
	if ps.BaseEjection > 0 && ps.MaxEjection > 0 && ps.MaxEjection < ps.BaseEjection {
		diags = append(diags, maxEjectionShorter(b, ps))
	}

	ps.MaxEjectedPercent, moreDiags = decodeIntIn("max_ejected_percent", b.MaxEjectedPercent, DefaultMaxEjectedPercent, 0, 100)
	diags = append(diags, moreDiags...)
	return ps, diags
}

// defaultPassive is the passive ejection of a pool without a passive
// block.
func defaultPassive() Passive {
	return Passive{
		Enabled:             DefaultPassiveEnabled,
		ConsecutiveFailures: DefaultConsecutiveFailures,
		ConsecutiveTimeouts: DefaultConsecutiveTimeouts,
		BaseEjection:        DefaultBaseEjection,
		MaxEjection:         DefaultMaxEjection,
		MaxEjectedPercent:   DefaultMaxEjectedPercent,
	}
}

// maxEjectionShorter reports a max_ejection shorter than base_ejection.
// It points at max_ejection when it is written, else at base_ejection,
// since then the default max_ejection is what collides with it.
func maxEjectionShorter(b *passiveBlock, ps Passive) *hcl.Diagnostic {
	if !written(b.MaxEjection) {
		return errorf(b.BaseEjection.Range(), "Ejection cap shorter than base",
			"max_ejection defaults to %s, which is shorter than base_ejection (%s); the first ejection would already pass the cap: lower base_ejection, or add max_ejection = %q or longer.",
			DefaultMaxEjection, ps.BaseEjection, ps.BaseEjection.String())
	}
	return errorf(b.MaxEjection.Range(), "Ejection cap shorter than base",
		"max_ejection (%s) is shorter than base_ejection (%s); the first ejection would already pass the cap: raise max_ejection to at least %q, or lower base_ejection.",
		ps.MaxEjection, ps.BaseEjection, ps.BaseEjection.String())
}
