// Package version says which stagescope this is, and which BuildKit it
// speaks.
package version

import (
	"runtime/debug"
	"strings"
)

// Version is set when linking (make build passes git describe:
// -ldflags "-X github.com/stagescope/stagescope/internal/version.Version=v1.2.3").
// Empty, it is the module version of the build: a tag with go install
// PKG@VERSION, "(devel)" from a work tree, with the VCS revision when Go
// recorded one.
var Version string

// String is stagescope's version.
func String() string {
	if Version != "" {
		return Version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
		if s.Key == "vcs.modified" && s.Value == "true" {
			v += "+dirty"
		}
	}
	return v
}

// BuildKit is the version of BuildKit's client and Dockerfile frontend
// linked into stagescope ("unknown" in a test binary without build
// information).
func BuildKit() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, d := range bi.Deps {
		if d.Path == "github.com/moby/buildkit" {
			if d.Replace != nil {
				return d.Replace.Version
			}
			return d.Version
		}
	}
	return "unknown"
}

// Go is the Go version stagescope was built with.
func Go() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.GoVersion
	}
	return "unknown"
}

// Long is the line --version prints: "stagescope VERSION (BuildKit
// VERSION, GOVERSION)".
func Long() string {
	return "stagescope " + strings.TrimSpace(String()) + " (BuildKit " + BuildKit() + ", " + Go() + ")"
}
