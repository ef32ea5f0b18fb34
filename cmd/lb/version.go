package main

import (
	"runtime/debug"

	"github.com/lbtrust/lb/internal/buildrev"
)

// version reports the module version, or the VCS revision of a development
// build ("devel+abc1234"), or "devel".
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := buildrev.Of(bi)
	if rev == "" {
		return "devel"
	}
	if dirty {
		rev += "-dirty"
	}
	return "devel+" + rev
}
