// Package buildgraph turns a Dockerfile into the graph of its build stages,
// exactly as BuildKit's Dockerfile frontend (dockerfile2llb) sees it, and
// answers questions about it: which targets exist, which stages a build of a
// target runs and which it skips, in which order stages can build.
//
// The package is pure: bytes and options in, values out. It parses with
// BuildKit's own frontend/dockerfile/parser and instructions packages, lints
// with BuildKit's own linter, and never touches the network or the file
// system. Renderers write the graph as text, JSON, Graphviz DOT or Mermaid.
package buildgraph

import (
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Graph is a parsed Dockerfile: its stages, the images and named contexts
// they use, and the dependencies between them.
type Graph struct {
	// File is the name used in messages (Options.Filename or "Dockerfile").
	File string
	// Syntax is the value of the "# syntax=" directive, "" when absent.
	// buildgraph always parses with the BuildKit version it is built with.
	Syntax string
	// EscapeToken is the escape character in effect ('\\' or '`').
	EscapeToken rune
	// Platform is the target platform ("linux/amd64") and BuildPlatform the
	// build platform the ARG defaults were computed from.
	Platform, BuildPlatform string
	// Args are the global ARGs (declared before the first FROM) after build
	// arguments were applied, in declaration order.
	Args []Arg
	// Stages are the build stages in Dockerfile order; Stages[i].Index == i.
	Stages []*Stage
	// Images are the external sources stages use: base images, COPY --from
	// and RUN --mount from= images, deduplicated by reference.
	Images []*Image
	// Edges are the dependencies between stages and on images, in the order
	// BuildKit discovers them (stage by stage, instruction by instruction).
	Edges []Edge
	// DefaultTarget is the name of the last stage (what BuildKit builds
	// without --target), "" when the last stage is unnamed.
	DefaultTarget string
	// Target is Options.Target as given; it selects TARGETSTAGE and the
	// default closure of the renderers.
	Target string
	// Warnings are the findings of BuildKit's Dockerfile linter, by line
	// (findings on one line in the order the linter reported them).
	Warnings []Warning
	// LintError is set when BuildKit would fail the build because of a
	// "# check=error=true" directive, or when BuildKit's lint pass over all
	// stages hit an error buildgraph does not model (an invalid COPY --chmod,
	// an unset ${VAR:?}, ...), or when the linter itself failed. It names
	// the first such problem; it never affects the graph.
	LintError *Error

	// states mirrors dockerfile2llb's dispatchStates list (stages followed
	// by the sources of COPY --from and RUN --mount that are not stages), so
	// numeric COPY --from indexes resolve exactly as in BuildKit.
	states     []*state
	byName     map[string]int // lowercase stage name -> stage index (last wins)
	src        []byte
	opts       Options
	targetUsed bool // TARGETSTAGE influenced a FROM or --platform
	linted     bool // Warnings and LintError are the linter's findings
	// lateContexts: which image an external source uses may depend on the
	// target (see parseState.lateSources).
	lateContexts bool
}

// Arg is a global build argument, declared before the first FROM.
type Arg struct {
	Name string
	// Value is the value FROM lines see; HasValue is false when the ARG has
	// no default and no build argument set it.
	Value    string
	HasValue bool
	// FromBuildArg is true when Options.BuildArgs supplied the value.
	FromBuildArg bool
	Line         int
}

// BaseKind says what a stage starts from.
type BaseKind string

// The kinds of stage bases.
const (
	BaseScratch BaseKind = "scratch" // FROM scratch: an empty file system
	BaseStage   BaseKind = "stage"   // FROM an earlier stage
	BaseImage   BaseKind = "image"   // FROM an image from a registry
	BaseContext BaseKind = "context" // FROM an image a named context replaces
)

// Base is what a stage's FROM refers to.
type Base struct {
	Kind BaseKind
	// Raw is the reference as written, e.g. "golang:${GO_VERSION}".
	Raw string
	// Ref is Raw with the global ARGs expanded, e.g. "golang:1.22".
	Ref string
	// Stage is the index of the base stage when Kind is BaseStage, else -1.
	Stage int
	// Image is the index in Graph.Images when Kind is BaseImage or
	// BaseContext, else -1.
	Image int
}

// NamedContext is a build context given with --build-context (BuildKit's
// "context:NAME" frontend option) that replaces a stage or an image.
type NamedContext struct {
	// Key is the Options.Contexts key that matched, e.g. "golang" or
	// "golang::linux/amd64".
	Key string
	// Value is the context as given, e.g. "docker-image://golang:1.22",
	// "./vendor" or "local:busybox".
	Value string
}

// Kind classifies Value the way buildx does: "docker-image", "oci-layout",
// "local" (a directory), "git", "http", "input", "target" or "unknown".
func (c *NamedContext) Kind() string {
	v := c.Value
	switch {
	case strings.HasPrefix(v, "docker-image://"):
		return "docker-image"
	case strings.HasPrefix(v, "oci-layout://"):
		return "oci-layout"
	case strings.HasPrefix(v, "local:"):
		return "local"
	case strings.HasPrefix(v, "input:"):
		return "input"
	case strings.HasPrefix(v, "target:"):
		return "target"
	case strings.HasPrefix(v, "git@"), strings.HasPrefix(v, "git://"),
		strings.HasSuffix(v, ".git"), strings.Contains(v, ".git#"):
		return "git"
	case strings.HasPrefix(v, "https://"), strings.HasPrefix(v, "http://"):
		return "http"
	case v == "":
		return "unknown"
	}
	return "local"
}

// Stage is one FROM section of the Dockerfile.
type Stage struct {
	Index int
	// Name is the stage name BuildKit uses: the lowercase AS name, or
	// "stage-N" for an unnamed stage. Named tells the two apart.
	Name  string
	Named bool
	// ProgressName is the name BuildKit puts in front of the stage's steps in
	// build progress ("[builder 2/5] RUN ..."). It equals Name, except that
	// it is "" when the build has a single source (a one-stage Dockerfile
	// without COPY --from or RUN --mount), where steps read "[2/5] RUN ...".
	ProgressName string
	Base         Base
	// PlatformFlag is FROM --platform as written ("" when absent); Platform
	// is the platform the stage builds for: the expanded flag, else the base
	// stage's platform, else the target platform.
	PlatformFlag string
	Platform     string
	// Context is set when a named context replaces the whole stage: BuildKit
	// then uses the context and runs none of the stage's instructions.
	Context *NamedContext
	// StartLine is the FROM line; EndLine the last line of the stage.
	StartLine, EndLine int
	// Doc is the stage's doc comment: a comment directly above FROM that
	// starts with the stage name ("# builder compiles the binary"), as
	// `docker buildx build --call=targets` shows it.
	Doc string
	// Comments are all comment lines directly above FROM.
	Comments []string
	// Instructions are the stage's instructions after FROM.
	Instructions []Instruction

	stage        instructions.Stage
	flagPlatform *ocispecs.Platform
}

// Instruction is one instruction of a stage.
type Instruction struct {
	// Keyword is the upper-case instruction name, e.g. "COPY".
	Keyword string
	// Text is the instruction as written, continuation lines and heredoc
	// bodies included.
	Text               string
	StartLine, EndLine int
	// Command is the instruction as BuildKit's instructions package parsed
	// it: its flags and arguments (*instructions.CopyCommand has From and
	// Chown, *instructions.RunCommand its mounts, ...), not expanded.
	Command instructions.Command
}

// Image is an external source: an image from a registry, scratch, or a named
// context standing in for an image.
type Image struct {
	Index int
	// Ref is the reference as the Dockerfile names it (ARGs expanded).
	Ref string
	// Normalized is the fully qualified reference BuildKit pulls, e.g.
	// "docker.io/library/golang:1.22"; "scratch" for scratch.
	Normalized string
	// Context is set when a named context replaces the image.
	Context *NamedContext
}

// Scratch reports whether the image is the empty "scratch" source.
func (im *Image) Scratch() bool { return im.Normalized == "scratch" }

// EdgeKind says why a stage depends on another stage or an image.
type EdgeKind string

// The kinds of dependencies.
const (
	EdgeBase      EdgeKind = "base"       // FROM
	EdgeCopyFrom  EdgeKind = "copy-from"  // COPY --from=
	EdgeMountFrom EdgeKind = "mount-from" // RUN --mount=...,from=
	// EdgeOnBuild is a COPY --from or RUN --mount from= in an ONBUILD
	// instruction of the base stage, which BuildKit runs in this stage.
	EdgeOnBuild EdgeKind = "onbuild"
)

// NodeKind says whether a Node is a stage or an image.
type NodeKind string

// The kinds of nodes.
const (
	NodeStage NodeKind = "stage"
	NodeImage NodeKind = "image"
)

// Node identifies a stage or an image of a Graph.
type Node struct {
	Kind  NodeKind
	Index int // index in Graph.Stages or Graph.Images
}

// Edge is a dependency of stage To on From.
type Edge struct {
	From Node
	To   int
	Kind EdgeKind
	// Ref is the reference as written: the FROM name, the --from value.
	Ref string
	// Line is the line of the FROM, COPY, RUN or ONBUILD instruction.
	Line int
	// MountType is the RUN --mount type ("bind", "cache", ...) for
	// mount-from edges and ONBUILD RUN mounts, else "".
	MountType string
}

// Warning is a finding of BuildKit's Dockerfile linter.
type Warning struct {
	// Rule is the rule name, e.g. "FromAsCasing".
	Rule string
	// Message is the finding, e.g. "'as' and 'FROM' keywords' casing do not
	// match".
	Message string
	// Description is the rule's one-line description and URL its
	// documentation page.
	Description, URL string
	// Line and EndLine locate the finding (0 when it has no location).
	Line, EndLine int
	// Stage is the index of the stage the finding is in, -1 when it is
	// outside every stage (global ARGs, directives).
	Stage int
}

// Target is a stage BuildKit can build: a named stage, or the last stage
// (which builds without --target).
type Target struct {
	Name        string // "" for an unnamed last stage
	Stage       int
	Description string // the stage's doc comment
	Default     bool   // the last stage
}

// Stage looks a stage up by name (case-insensitively, as BuildKit does for
// --target and COPY --from) or by decimal index. When several stages share a
// name, the last one wins, as in BuildKit. The name "stage-N" of an unnamed
// stage also works.
func (g *Graph) Stage(nameOrIndex string) (*Stage, bool) {
	if i, ok := g.byName[strings.ToLower(nameOrIndex)]; ok {
		return g.Stages[i], true
	}
	if i, ok := parseIndex(nameOrIndex); ok && i < len(g.Stages) {
		return g.Stages[i], true
	}
	for _, s := range g.Stages {
		if !s.Named && strings.EqualFold(s.Name, nameOrIndex) {
			return s, true
		}
	}
	return nil, false
}

// Chain returns the FROM chain of stage i, base-most first: the stage, the
// stage it is built FROM, that stage's base, and so on, up to a stage that
// starts from an image or scratch, or that a named context replaces (whose
// own base BuildKit never reaches). Every file of each stage of the chain is
// in stage i's file system.
func (g *Graph) Chain(i int) []*Stage {
	var out []*Stage
	seen := map[int]bool{}
	for i >= 0 && i < len(g.Stages) && !seen[i] {
		seen[i] = true
		st := g.Stages[i]
		out = append([]*Stage{st}, out...)
		if st.Context != nil || st.Base.Kind != BaseStage {
			break
		}
		i = st.Base.Stage
	}
	return out
}

// parseIndex parses a plain non-negative decimal stage index.
func parseIndex(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// Targets lists the stages a build can target, in Dockerfile order: every
// named stage, and the last stage even when it is unnamed.
func (g *Graph) Targets() []Target {
	var ts []Target
	for _, s := range g.Stages {
		last := s.Index == len(g.Stages)-1
		if !s.Named && !last {
			continue
		}
		t := Target{Stage: s.Index, Description: s.Doc, Default: last}
		if s.Named {
			t.Name = s.Name
		}
		ts = append(ts, t)
	}
	return ts
}

// nodeLabel returns a short label for n: the stage name or the image
// reference.
func (g *Graph) nodeLabel(n Node) string {
	if n.Kind == NodeStage {
		return g.Stages[n.Index].Name
	}
	return g.Images[n.Index].Ref
}
