package buildgraph

import (
	"fmt"
	"slices"
	"strings"
)

// PlatformProgress is the steps of a multi-platform build for one target
// platform, stage by stage.
type PlatformProgress struct {
	// Platform is the target platform ("linux/arm64").
	Platform string
	Stages   []PlatformStageProgress
}

// PlatformStageProgress counts the steps of one stage for one platform.
type PlatformStageProgress struct {
	Stage int
	Name  string
	// RunsOn is where the steps ran when that is not Platform: the build
	// platform of a FROM --platform=$BUILDPLATFORM stage ("linux/amd64").
	RunsOn string
	// Steps is how many steps BuildKit reported for the stage and
	// platform, Cached how many of them it answered from its cache, Done
	// how many finished (cached included), Failed how many failed.
	Steps, Cached, Done, Failed int
}

// StepTargetPlatform splits the platform prefix of a step's name into the
// target platform it builds for and the platform it runs on:
// "linux/amd64->arm64" (a cross-compiling step) is for linux/arm64 and
// runs on linux/amd64; "linux/arm64" is both. BuildKit prefixes steps
// with their platform only when several platforms were asked for, and
// adds "->ARCH" only to steps that see TARGET* build arguments: a step
// shared by the platforms (the same vertex) is listed under the platform
// it runs on.
func StepTargetPlatform(prefix string) (target, runsOn string) {
	base, to, cross := strings.Cut(prefix, "->")
	if !cross {
		return prefix, prefix
	}
	// "->windows/amd64": another OS, given whole; "->arm64" or "->arm/v7":
	// an architecture (and variant) of base's OS.
	if first, _, ok := strings.Cut(to, "/"); ok && slices.Contains(knownOSes, first) {
		return to, base
	}
	os, _, _ := strings.Cut(base, "/")
	return os + "/" + to, base
}

// ByPlatform groups the stage steps of a multi-platform build by target
// platform (in order of first appearance) and stage (in Dockerfile
// order). It is empty for a build of one platform, whose steps carry no
// platform prefix.
func (p *Progress) ByPlatform() []PlatformProgress {
	var out []PlatformProgress
	index := map[string]int{}
	type key struct {
		platform string
		stage    int
	}
	counts := map[key]*PlatformStageProgress{}
	for _, s := range p.steps {
		if s.Platform == "" || s.Stage < 0 || s.Stage >= len(p.Stages) {
			continue
		}
		target, runsOn := StepTargetPlatform(s.Platform)
		if _, ok := index[target]; !ok {
			index[target] = len(out)
			out = append(out, PlatformProgress{Platform: target})
		}
		k := key{target, s.Stage}
		c := counts[k]
		if c == nil {
			c = &PlatformStageProgress{Stage: s.Stage, Name: p.Stages[s.Stage].Name}
			counts[k] = c
		}
		if runsOn != target {
			c.RunsOn = runsOn
		}
		c.Steps++
		switch s.State {
		case StepCached:
			c.Cached++
			c.Done++
		case StepDone:
			c.Done++
		case StepError:
			c.Failed++
		}
	}
	for k, c := range counts {
		pp := &out[index[k.platform]]
		pp.Stages = append(pp.Stages, *c)
	}
	for i := range out {
		slices.SortFunc(out[i].Stages, func(a, b PlatformStageProgress) int { return a.Stage - b.Stage })
	}
	return out
}

// knownOSes are the operating systems a platform may name.
var knownOSes = []string{"linux", "windows", "darwin", "freebsd", "netbsd", "openbsd", "dragonfly", "solaris", "illumos", "aix", "android", "ios", "plan9", "js", "wasip1"}

// SortPlatformProgress orders groups as the platforms were asked for
// (order); a platform BuildKit prefixed no step with (all shared with
// another) comes last.
func SortPlatformProgress(groups []PlatformProgress, order []string) {
	at := func(p string) int {
		if i := slices.Index(order, p); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(groups, func(a, b PlatformProgress) int { return at(a.Platform) - at(b.Platform) })
}

// Summary says which stages the platform's build ran, with how many
// steps: "builder (on linux/amd64) 1 step; stage-1 2 steps, 1 cached".
func (p PlatformProgress) Summary() string {
	var parts []string
	for _, s := range p.Stages {
		part := s.Name
		if s.RunsOn != "" {
			part += " (on " + s.RunsOn + ")"
		}
		steps := "steps"
		if s.Steps == 1 {
			steps = "step"
		}
		part += fmt.Sprintf(" %d %s", s.Steps, steps)
		if s.Cached > 0 {
			part += fmt.Sprintf(", %d cached", s.Cached)
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "; ")
}
