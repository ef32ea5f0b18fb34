// Package buildrev reads the version control stamp of a Go build: the
// commit a binary was built from and whether its tree had changes.
package buildrev

import "runtime/debug"

// Of returns the first 12 characters of the build's vcs.revision ("" when
// the build carries no stamp, as with -buildvcs=false) and whether
// vcs.modified was true. info must not be nil.
func Of(info *debug.BuildInfo) (rev string, dirty bool) {
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return rev, dirty
}
