package buildgraph

import (
	"fmt"
	"slices"
	"strings"

	"github.com/containerd/platforms"
)

// ParsePlatformList parses a --platform value: one platform or several
// separated by commas ("linux/amd64,linux/arm64"), each normalized
// (linux/arm64/v8 is linux/arm64), duplicates dropped, in the order given.
func ParsePlatformList(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			return nil, fmt.Errorf("empty platform in %q", s)
		}
		p, err := platforms.Parse(f)
		if err != nil {
			return nil, fmt.Errorf("invalid platform %q: %v", f, err)
		}
		name := platforms.FormatAll(platforms.Normalize(p))
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

// NormalizePlatform is one platform as ParsePlatformList and the engine's
// measurement of an image index name it ("linux/arm64" for
// "linux/arm64/v8"); ok is false when s is not one platform.
func NormalizePlatform(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.Contains(s, ",") {
		return "", false
	}
	p, err := platforms.Parse(s)
	if err != nil {
		return "", false
	}
	return platforms.FormatAll(platforms.Normalize(p)), true
}

// PlatformSet is a Dockerfile seen for several target platforms at once,
// as one multi-platform build sees it: BuildKit resolves the Dockerfile once
// per platform (TARGETARCH, TARGETPLATFORM and FROM --platform take that
// platform's values), so which stages a target builds, and from what, may
// differ between platforms.
type PlatformSet struct {
	// Platforms are the target platforms, normalized, in the order given.
	Platforms []string
	// Graphs[i] is the Dockerfile parsed for Platforms[i]; Closures[i] the
	// target's closure there (its Graph is the one the indexes refer to).
	Graphs   []*Graph
	Closures []Closure
	// Stages compares every stage across the platforms, in Dockerfile
	// order (every platform's graph has the same stages).
	Stages []PlatformStage
}

// PlatformStage is one stage across the platforms of a PlatformSet.
type PlatformStage struct {
	Index int
	Name  string
	// On[i] is the stage in the build for Platforms[i].
	On []StageOnPlatform
	// Differences say, one sentence each, how the stage's build differs
	// between the platforms: built for some only, FROM resolving to
	// different stages or images. Empty when it builds alike. (BuildKit
	// expands no ARG in COPY --from or RUN --mount from=, so what a stage
	// copies from is the same on every platform.)
	Differences []string
}

// Differs reports whether the stage does not build alike on every platform.
func (s PlatformStage) Differs() bool { return len(s.Differences) > 0 }

// StageOnPlatform is a stage in the build of one target platform.
type StageOnPlatform struct {
	// Platform is the target platform of the build.
	Platform string
	// Builds: the build runs the stage. Replaced: it uses the named context
	// that replaces the stage instead. Neither: the stage is skipped.
	Builds, Replaced bool
	// RunsOn is the platform the stage's steps run on: the target platform,
	// or another one given with FROM --platform ($BUILDPLATFORM for a
	// cross-compiling builder).
	RunsOn string
	// From is what the stage starts from: a stage name, an image
	// reference, or "scratch".
	From string
}

// Used reports whether the build uses the stage (built or replaced).
func (s StageOnPlatform) Used() bool { return s.Builds || s.Replaced }

// ParsePlatforms parses data once per platform in plats (as
// ParsePlatformList returns them) with opts, and compares the closures of
// opts.Target across them.
func ParsePlatforms(data []byte, opts Options, plats []string) (*PlatformSet, error) {
	if len(plats) == 0 {
		return nil, fmt.Errorf("no platform given")
	}
	set := &PlatformSet{Platforms: plats}
	for _, p := range plats {
		o := opts
		o.Platform = p
		g, err := Parse(data, o)
		if err != nil {
			return nil, err
		}
		c, err := g.Closure(opts.Target)
		if err != nil {
			return nil, err
		}
		set.Graphs = append(set.Graphs, g)
		set.Closures = append(set.Closures, c)
	}
	first := set.Closures[0].Graph
	for _, s := range first.Stages {
		ps := PlatformStage{Index: s.Index, Name: s.Name}
		for i, c := range set.Closures {
			ps.On = append(ps.On, stageOn(set.Platforms[i], c, s.Index))
		}
		ps.Differences = differences(ps.On)
		set.Stages = append(set.Stages, ps)
	}
	return set, nil
}

// Target is the name of the target stage.
func (s *PlatformSet) Target() string {
	c := s.Closures[0]
	return c.Graph.Stages[c.Target].Name
}

// TargetIndex is the index of the target stage.
func (s *PlatformSet) TargetIndex() int { return s.Closures[0].Target }

// BuildPlatform is the platform the build runs on (BUILDPLATFORM).
func (s *PlatformSet) BuildPlatform() string { return s.Graphs[0].BuildPlatform }

// Differing lists the stages that do not build alike on every platform.
func (s *PlatformSet) Differing() []PlatformStage {
	var out []PlatformStage
	for _, st := range s.Stages {
		if st.Differs() {
			out = append(out, st)
		}
	}
	return out
}

func stageOn(platform string, c Closure, i int) StageOnPlatform {
	g := c.Graph
	s := g.Stages[i]
	on := StageOnPlatform{
		Platform: platform,
		Replaced: c.IsReplaced(i),
		RunsOn:   s.Platform,
	}
	on.Builds = c.Contains(i) && !on.Replaced
	switch s.Base.Kind {
	case BaseStage:
		on.From = g.Stages[s.Base.Stage].Name
	case BaseScratch:
		on.From = "scratch"
	default:
		on.From = s.Base.Ref
	}
	return on
}

// differences compares one stage's builds across platforms.
func differences(on []StageOnPlatform) []string {
	var used, unused []string
	for _, o := range on {
		if o.Used() {
			used = append(used, o.Platform)
		} else {
			unused = append(unused, o.Platform)
		}
	}
	var out []string
	if len(used) > 0 && len(unused) > 0 {
		out = append(out, "built for "+strings.Join(used, ", ")+" only")
	}
	if d := differ(on, func(o StageOnPlatform) string { return o.From }); d != "" {
		out = append(out, "FROM "+d)
	}
	return out
}

// differ says "x on linux/amd64, y on linux/arm64" when what of the
// platforms that use the stage is not the same everywhere, else "".
func differ(on []StageOnPlatform, what func(StageOnPlatform) string) string {
	var parts []string
	var first string
	same := true
	n := 0
	for _, o := range on {
		if !o.Used() {
			continue
		}
		v := what(o)
		if n == 0 {
			first = v
		} else if v != first {
			same = false
		}
		n++
		parts = append(parts, v+" on "+o.Platform)
	}
	if same {
		return ""
	}
	return strings.Join(parts, ", ")
}
