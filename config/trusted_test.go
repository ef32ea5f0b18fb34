package config

import (
	"net/netip"
	"slices"
	"testing"
)

func TestTrustedProxies(t *testing.T) {
	src := `listener "l" {
  address         = "127.0.0.1:8080"
  pool            = "p"
  trusted_proxies = ["10.1.2.3/8", "127.0.0.1", "::ffff:192.0.2.1", "2001:db8::/32", "::ffff:198.51.100.0/120"]
}
listener "m" {
  address = "127.0.0.1:8081"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`
	cfg, diags := Parse([]byte(src), "t.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("127.0.0.1/32"),
		netip.MustParsePrefix("192.0.2.1/32"),
		netip.MustParsePrefix("2001:db8::/32"),
		netip.MustParsePrefix("198.51.100.0/24"),
	}
	if got := cfg.Listener("l").TrustedProxies; !slices.Equal(got, want) {
		t.Errorf("trusted_proxies %v, want %v", got, want)
	}
	if got := cfg.Listener("m").TrustedProxies; got != nil {
		t.Errorf("default trusted_proxies %v, want none", got)
	}
}
