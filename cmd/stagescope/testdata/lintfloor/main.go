// Command lintfloor is the least a process can do for `stagescope graph`:
// read a Dockerfile, parse it with BuildKit's parser and instructions
// packages, and run BuildKit's linter over all stages with the options
// buildgraph gives it, then print the findings as JSON. The start-up
// benchmark times stagescope against it on the same files.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: lintfloor DOCKERFILE")
		os.Exit(2)
	}
	src, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	stages, _, err := instructions.Parse(res.AST, linter.New(&linter.Config{}))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	pl := platforms.Normalize(platforms.DefaultSpec())
	sourceMap := llb.NewSourceMap(nil, os.Args[1], "Dockerfile", src)
	sourceMap.Definition = &llb.Definition{}
	caps := pb.Caps.CapSet(pb.Caps.All())
	lint, err := dockerfile2llb.DockerfileLint(context.Background(), src, dockerfile2llb.ConvertOpt{
		Config:       dockerui.Config{BuildArgs: map[string]string{}, BuildPlatforms: []ocispecs.Platform{pl}},
		SourceMap:    sourceMap,
		MetaResolver: resolver{},
		LLBCaps:      &caps,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	out := struct {
		Stages   int   `json:"stages"`
		Warnings []any `json:"warnings"`
		Error    any   `json:"error,omitempty"`
	}{Stages: len(stages), Error: lint.Error}
	for _, w := range lint.Warnings {
		out.Warnings = append(out.Warnings, w)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		os.Exit(1)
	}
}

// resolver describes every image as an empty one, as buildgraph's does.
type resolver struct{}

func (resolver) ResolveImageConfig(_ context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	img := ocispecs.Image{RootFS: ocispecs.RootFS{Type: "layers"}}
	if opt.ImageOpt != nil && opt.ImageOpt.Platform != nil {
		img.Platform = *opt.ImageOpt.Platform
	}
	dt, err := json.Marshal(img)
	return ref, "", dt, err
}
