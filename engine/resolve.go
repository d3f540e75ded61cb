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
)

// Candidate is one place an engine may answer.
type Candidate struct {
	Kind   Kind
	Source Source
	// Context is the Docker context name for SourceDockerContext.
	Context string
	Addr    string
}

// Candidates lists, in the order Connect tries them, every place an engine
// may be found: the explicit BuildKit address (--addr, else BUILDKIT_HOST),
// then Docker (DOCKER_HOST, else DOCKER_CONTEXT or the docker CLI's current
// context, else the default socket). Connect uses the first one that is set;
// `stagescope engines` shows them all.
func Candidates(opts Options) []Candidate {
	var out []Candidate
	if opts.Addr != "" {
		out = append(out, Candidate{Kind: KindBuildKit, Source: SourceFlag, Addr: opts.Addr})
	}
	if h := os.Getenv("BUILDKIT_HOST"); h != "" {
		out = append(out, Candidate{Kind: KindBuildKit, Source: SourceBuildkitHost, Addr: h})
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
		cf, err := config.Load(config.Dir())
		if err != nil || cf == nil {
			return "", ""
		}
		name = cf.CurrentContext
	}
	if name == "" || name == "default" {
		return "", ""
	}
	s := store.New(filepath.Join(config.Dir(), "contexts"), store.NewConfig(
		func() any { return &map[string]any{} },
		store.EndpointTypeGetter("docker", func() any { return &clicontext.EndpointMetaBase{} }),
	))
	meta, err := s.GetMetadata(name)
	if err != nil {
		return name, ""
	}
	ep, ok := meta.Endpoints["docker"].(clicontext.EndpointMetaBase)
	if !ok {
		if p, ok := meta.Endpoints["docker"].(*clicontext.EndpointMetaBase); ok && p != nil {
			ep = *p
		}
	}
	return name, ep.Host
}
