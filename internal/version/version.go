// Package version says which build of energylabel is running, from what
// the Go toolchain recorded in the binary.
package version

import (
	"runtime/debug"
	"sync"
)

// String is the module version of a released build, or the VCS revision
// (with "+dirty" for local changes) of a build from a checkout, or
// "devel".
var String = sync.OnceValue(func() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+dirty"
	}
	return rev
})
