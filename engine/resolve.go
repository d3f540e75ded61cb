package engine

import (
	"os"
	"path/filepath"

	"github.com/docker/cli/cli/config"
	clicontext "github.com/docker/cli/cli/context"
	"github.com/docker/cli/cli/context/store"
)

// Source says where an engine address came from.
type Source string

const (
	SourceFlag          Source = "--addr"
	SourceBuildkitHost  Source = "BUILDKIT_HOST"
	SourceDockerHost    Source = "DOCKER_HOST"
	SourceDockerContext Source = "docker context"
	SourceDockerDefault Source = "default Docker socket"
	SourceBuilderFlag   Source = "--builder"
	SourceBuildxBuilder Source = "BUILDX_BUILDER"
	SourceBuildxCurrent Source = "buildx current builder"
)

// Candidate is one place an engine may answer.
type Candidate struct {
	Kind   Kind
	Source Source
	// Context is the Docker context name for SourceDockerContext.
	Context string
	Addr    string
	// Builder is the buildx builder of the --builder, BUILDX_BUILDER and
	// buildx current sources; Kind and Addr are then its first node's.
	Builder *Builder
	// err says why the candidate cannot be used (an unknown builder).
	err error
}

// Candidates lists, in the order Connect tries them, every place an engine
// may be found: the explicit BuildKit address (--addr), the builder named by
// --builder, BUILDKIT_HOST, the builder named by BUILDX_BUILDER, the builder
// buildx currently uses (`docker buildx use`), then Docker (DOCKER_HOST,
// else DOCKER_CONTEXT or the docker CLI's current context, else the default
// socket). Connect uses the first one that is set; `stagescope engines`
// shows them all. The flags come first, then the environment (BuildKit's
// own variable before buildx's), then buildx's saved choice: a builder
// that buildx would use when none is named is used only when nothing more
// explicit is set.
func Candidates(opts Options) []Candidate {
	var out []Candidate
	if opts.Addr != "" {
		out = append(out, Candidate{Kind: KindBuildKit, Source: SourceFlag, Addr: opts.Addr})
	}
	if opts.Builder != "" {
		out = append(out, builderCandidate(opts.Builder, SourceBuilderFlag))
	}
	if h := os.Getenv("BUILDKIT_HOST"); h != "" {
		out = append(out, Candidate{Kind: KindBuildKit, Source: SourceBuildkitHost, Addr: h})
	}
	if name := os.Getenv("BUILDX_BUILDER"); name != "" {
		out = append(out, builderCandidate(name, SourceBuildxBuilder))
	}
	if b, err := DefaultBuildxStore().Current(); err != nil {
		out = append(out, Candidate{Kind: KindBuildKit, Source: SourceBuildxCurrent, err: err})
	} else if b != nil {
		out = append(out, candidateOf(b, SourceBuildxCurrent))
	}
	if opts.DockerHost != "" {
		out = append(out, Candidate{Kind: KindDocker, Source: SourceFlag, Addr: opts.DockerHost})
	}
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		out = append(out, Candidate{Kind: KindDocker, Source: SourceDockerHost, Addr: h})
	}
	if name, host := dockerContextHost(); host != "" {
		out = append(out, Candidate{Kind: KindDocker, Source: SourceDockerContext, Context: name, Addr: host})
	}
	out = append(out, Candidate{Kind: KindDocker, Source: SourceDockerDefault, Addr: defaultDockerHost})
	return out
}

// dockerContextHost returns the Docker context in effect (DOCKER_CONTEXT,
// else the config file's currentContext) and its endpoint's host, or empty
// strings when that is the built-in "default" context.
func dockerContextHost() (string, string) {
	name := os.Getenv("DOCKER_CONTEXT")
	if name == "" {
		cf, err := config.Load(dockerConfigDir())
		if err != nil || cf == nil {
			return "", ""
		}
		name = cf.CurrentContext
	}
	if name == "" || name == "default" {
		return "", ""
	}
	return name, contextHost(name)
}

// contextHost is the Docker host of the context name in the docker CLI's
// context store, "" when there is no such context.
func contextHost(name string) string {
	s := store.New(filepath.Join(dockerConfigDir(), "contexts"), store.NewConfig(
		func() any { return &map[string]any{} },
		store.EndpointTypeGetter("docker", func() any { return &clicontext.EndpointMetaBase{} }),
	))
	meta, err := s.GetMetadata(name)
	if err != nil {
		return ""
	}
	ep, ok := meta.Endpoints["docker"].(clicontext.EndpointMetaBase)
	if !ok {
		if p, ok := meta.Endpoints["docker"].(*clicontext.EndpointMetaBase); ok && p != nil {
			ep = *p
		}
	}
	return ep.Host
}

func builderCandidate(name string, src Source) Candidate {
	b, err := ResolveBuilder(name, src)
	if err != nil {
		return Candidate{Kind: KindBuildKit, Source: src, Context: name, err: err}
	}
	return candidateOf(b, src)
}

// candidateOf is the candidate of a builder, shown as its first node.
func candidateOf(b *Builder, src Source) Candidate {
	c := Candidate{Kind: KindBuildKit, Source: src, Context: b.Name, Builder: b}
	if len(b.Nodes) > 0 {
		if t, err := nodeTarget(b, b.Nodes[0]); err == nil {
			c.Kind, c.Addr = t.kind, t.addr
		}
	}
	return c
}
