// Package pipeline is the one path a build takes, below every face: it
// loads a project (Dockerfile, build arguments, named contexts, the check
// for contexts too wide to send), plans the build of its targets, runs one
// or several targets in one engine session, folds the status stream into
// the step model, measures the images, lines their layers up with the
// Dockerfile and records their sizes. A face (the headless commands, the
// TUI) starts a Run and reads one stream of typed events from it, the last
// of which carries the outcome.
package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/stagescope/stagescope/bake"
	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
)

// InputError is a problem with what the user gave: a path, a flag value,
// the Dockerfile's size.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputf(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

// Input is what the user asked to build, as given on the command line.
type Input struct {
	// ContextDir is the build context folder ("" for ".").
	ContextDir string
	// File is the Dockerfile ("" for ContextDir/Dockerfile).
	File string
	// BuildArgs are KEY=VALUE (KEY alone takes the environment's value).
	BuildArgs []string
	// Contexts are named contexts, NAME=DIR or NAME=docker-image://REF….
	Contexts []string
	NoCache  bool
	Platform string
	Secrets  []string
	SSH      []string
	Outputs  []string
	Load     bool
	// AllowWide sends a context that is the filesystem root or the home
	// folder without asking (--yes).
	AllowWide bool

	// Provenance is --provenance: min, max, mode=min, mode=max, true
	// (min) or false ("": none).
	Provenance string
}

// Project is a validated build context and Dockerfile, before a target is
// chosen.
type Project struct {
	// Dockerfile is the Dockerfile's path, as the user gave it.
	Dockerfile string
	// Source is the Dockerfile's text.
	Source []byte
	// Graph is the Dockerfile parsed without a target.
	Graph *buildgraph.Graph
	// Base is the request every target's build starts from: context,
	// Dockerfile, build arguments, named contexts and the build settings;
	// Target and Tags are left empty.
	Base engine.BuildRequest
	// AllowWide: see Input.
	AllowWide bool
	// Platforms are the target platforms of a build for several
	// (--platform a,b), normalized; nil for one. Graph is the first one's.
	Platforms []string
	// BuilderPair says whether the Dockerfile is one half of the builder
	// pattern, found beside it when the project is loaded, so that no view
	// touches the file system.
	BuilderPair buildgraph.BuilderPair
	// Name is what a comparison of several Dockerfiles calls this one
	// (see LoadAll); "" when it is loaded alone.
	Name string
	// Bake is the bake target the project was loaded for (LoadBake), and
	// Stage the index of the one stage it builds; Bake is nil otherwise.
	Bake  *bake.Target
	Stage int

	// onDisk: the Dockerfile was read from its file by Load, and Reload
	// reads it again. A Project made of bytes has no file to follow.
	onDisk bool
}

// Load checks the context folder and every input, reads and parses the
// Dockerfile: all input problems are found before an engine is asked.
func Load(in Input) (*Project, error) {
	dir := in.ContextDir
	if dir == "" {
		dir = "."
	}
	if st, err := os.Stat(dir); err != nil {
		return nil, inputf("build context %s does not exist", dir)
	} else if !st.IsDir() {
		return nil, inputf("build context %s is not a directory", dir)
	}
	file := in.File
	if file == "" {
		file = filepath.Join(dir, "Dockerfile")
	}
	p := &Project{Dockerfile: file, AllowWide: in.AllowWide, onDisk: true}
	var err error
	if p.Source, err = ReadDockerfile(file); err != nil {
		return nil, err
	}
	args, err := ParseBuildArgs(in.BuildArgs)
	if err != nil {
		return nil, err
	}
	contexts, err := ParseContexts(in.Contexts)
	if err != nil {
		return nil, err
	}
	platform, plats, err := platformList(in.Platform)
	if err != nil {
		return nil, err
	}
	p.Platforms = plats
	in.Platform = platform
	provenance, err := provenanceAttr(in.Provenance)
	if err != nil {
		return nil, err
	}
	p.Base = engine.BuildRequest{
		ContextDir: dir, Dockerfile: file, NoCache: in.NoCache,
		BuildArgs: args, Contexts: contexts,
		Platform: in.Platform, Provenance: provenance, Secrets: in.Secrets, SSH: in.SSH, Outputs: in.Outputs, Load: in.Load,
	}
	if err := engine.Check(p.Base); err != nil {
		return nil, err
	}
	if p.Graph, err = p.parse(""); err != nil {
		return nil, err
	}
	p.BuilderPair = buildgraph.FindBuilderPair(p.Dockerfile, isFile)
	return p, nil
}

// Reload reads the Dockerfile again. It returns p itself when the bytes
// are the ones p holds (or p was not read from a file), else a new Project
// with the same context and settings, the new bytes and their graph,
// unlinted. A Dockerfile that no longer parses is a *buildgraph.Error
// (file:line), one that cannot be read an *InputError; p stays as it was.
func (p *Project) Reload() (*Project, error) {
	if !p.onDisk {
		return p, nil
	}
	src, err := ReadDockerfile(p.Dockerfile)
	if err != nil {
		return nil, err
	}
	return p.WithSource(src)
}

// WithSource is p with the Dockerfile's bytes src: p itself when they are
// p's, else a new Project parsed from them (see Reload).
func (p *Project) WithSource(src []byte) (*Project, error) {
	if bytes.Equal(src, p.Source) {
		return p, nil
	}
	q := *p
	q.Source = src
	g, err := q.parse("")
	if err != nil {
		return nil, err
	}
	q.Graph = g
	q.BuilderPair = buildgraph.FindBuilderPair(q.Dockerfile, isFile)
	return &q, nil
}

// Follows reports whether the project was read from a file that Reload
// reads again.
func (p *Project) Follows() bool { return p.onDisk }

// isFile reports whether path names a regular file.
func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// parse parses the Dockerfile for target without BuildKit's linter: a build
// does not use its findings (BuildKit's own frontend lints again), and the
// TUI lints its graph in the background (Graph.Lint).
func (p *Project) parse(target string) (*buildgraph.Graph, error) {
	return buildgraph.Parse(p.Source, buildgraph.Options{
		Filename:  p.Dockerfile,
		BuildArgs: p.Base.BuildArgs,
		Contexts:  p.Base.Contexts,
		Target:    target,
		Platform:  p.graphPlatform(),
		SkipLint:  true,
	})
}

// Plan is a validated build of one target.
type Plan struct {
	Request engine.BuildRequest
	// Graph is the Dockerfile parsed for the target.
	Graph *buildgraph.Graph
	// Target is the stage that is built, by BuildKit's name for it.
	Target string
	// Project is the project the plan was made of.
	Project *Project
}

// Label names the plan's target as a comparison does: NAME:TARGET when
// its project is one of several Dockerfiles, else the target alone.
func (p *Plan) Label() string {
	if p.Project != nil && p.Project.Name != "" {
		return p.Project.Name + ":" + p.Target
	}
	return p.Target
}

// Plan resolves a target ("" for the last stage) and makes its request,
// with tags (default stagescope/<context dir>:<target>). The last stage
// may also be named by the name BuildKit shows for it when it has none of
// its own ("stage-1"): BuildKit builds it when no target is given, which
// is what is sent then.
func (p *Project) Plan(target string, tags []string) (*Plan, error) {
	last := p.Graph.Stages[len(p.Graph.Stages)-1]
	g, name, send := p.Graph, last.Name, ""
	if target != "" && !(!last.Named && strings.EqualFold(target, last.Name)) {
		var err error
		if g, err = p.parse(target); err != nil {
			return nil, err
		}
		st, _ := g.Stage(target)
		name, send = st.Name, target
	}
	if err := p.checkPlatforms(send); err != nil {
		return nil, err
	}
	req := p.Base
	req.Target = send
	req.Tags = tags
	if p.onDisk {
		// The bytes parsed are the ones built, even if the file is saved
		// before the engine reads it.
		req.DockerfileSource = p.Source
	}
	if len(req.Tags) == 0 {
		req.Tags = []string{DefaultTag(p.Base.ContextDir, name)}
		if p.Name != "" {
			// Several Dockerfiles may share one context: the tag says
			// which Dockerfile the image is of.
			req.Tags = []string{tagOf(p.Name, name)}
		}
	}
	return &Plan{Request: req, Graph: g, Target: name, Project: p}, nil
}

// Wide returns the local contexts that are the filesystem root or the home
// folder: building would send everything in them.
func (p *Project) Wide() []engine.WideContext { return engine.WideContexts(p.Base) }

// CheckWide refuses, unless AllowWide, to send a local context that is the
// filesystem root or the home folder. The sentence gives its size, counted
// for at most engine.CountTime. With AllowWide it says on w what is sent.
func (p *Project) CheckWide(w io.Writer, flag string) error {
	for _, wc := range p.Wide() {
		ctx, cancel := context.WithTimeout(context.Background(), engine.CountTime)
		size := wc.Count(ctx)
		cancel()
		if !p.AllowWide {
			return inputf("%s is %s: building would send everything in it to the engine (%s); give a smaller folder, or pass %s to send it anyway", wc.Label(), wc.What, size, flag)
		}
		fmt.Fprintf(w, "sending %s, %s (%s), as %s allows\n", wc.Label(), wc.What, size, flag)
	}
	return nil
}

// MaxDockerfileSize is the largest Dockerfile stagescope reads. BuildKit's
// own limit for the build definition is far below it.
const MaxDockerfileSize = 8 << 20

// ReadDockerfile reads a Dockerfile with one-sentence errors.
func ReadDockerfile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, inputf("Dockerfile %s does not exist", path)
	case err != nil:
		return nil, inputf("cannot read Dockerfile %s: %v", path, errors.Unwrap(err))
	case st.IsDir():
		return nil, inputf("Dockerfile %s is a directory; give the file with -f", path)
	}
	if st.Size() > MaxDockerfileSize {
		return nil, inputf("Dockerfile %s is larger than %d MiB", path, MaxDockerfileSize>>20)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, inputf("cannot read Dockerfile %s: %v", path, errors.Unwrap(err))
	}
	return data, nil
}

// ParseBuildArgs reads --build-arg values: KEY=VALUE, or KEY alone for the
// environment's value.
func ParseBuildArgs(list []string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if k == "" {
			return nil, inputf("--build-arg %q: want KEY=VALUE", kv)
		}
		if !ok {
			env, set := os.LookupEnv(k)
			if !set {
				return nil, inputf("--build-arg %s has no value and %s is not set in the environment", k, k)
			}
			v = env
		}
		out[k] = v
	}
	return out, nil
}

// ParseContexts reads --build-context values: NAME=DIR (which must be a
// folder) or NAME=value BuildKit understands (docker-image://REF…).
func ParseContexts(list []string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || v == "" {
			return nil, inputf("--build-context %q: want NAME=DIR or NAME=docker-image://REF", kv)
		}
		if !strings.Contains(v, "://") {
			st, err := os.Stat(v)
			if err != nil {
				return nil, inputf("--build-context %s: folder %s does not exist", k, v)
			}
			if !st.IsDir() {
				return nil, inputf("--build-context %s: %s is not a directory", k, v)
			}
		}
		out[k] = v
	}
	return out, nil
}

var tagUnsafe = regexp.MustCompile(`[^a-z0-9._-]+`)

// DefaultTag is stagescope/<context dir>:<target>, made a valid reference.
func DefaultTag(contextDir, target string) string {
	abs, err := filepath.Abs(contextDir)
	if err != nil {
		abs = contextDir
	}
	return tagOf(filepath.Base(abs), target)
}

// tagOf is stagescope/<name>:<target>, made a valid reference.
func tagOf(name, target string) string {
	repo := strings.Trim(tagUnsafe.ReplaceAllString(strings.ToLower(name), "-"), "-._")
	if repo == "" {
		repo = "context"
	}
	tag := strings.Trim(tagUnsafe.ReplaceAllString(strings.ToLower(target), "-"), "-.")
	if tag == "" {
		tag = "latest"
	}
	if len(tag) > 128 {
		tag = tag[:128]
	}
	return "stagescope/" + repo + ":" + tag
}
