package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
)

// Shell completion (cobra's `stagescope completion SHELL` scripts call
// `stagescope __complete ARGS…`): --target completes with the stages of
// the Dockerfile the command line names, --builder with buildx's builders,
// --platform with the platforms of the engine the command line chooses.

// completeTargets completes --target with the stages a build can target,
// each with its doc comment.
func completeTargets(f *buildFlags) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		dir := "."
		if len(args) > 0 {
			dir = args[0]
		}
		file := f.file
		if file == "" && len(f.files) > 0 {
			// The commands that take several Dockerfiles focus the first.
			file = f.files[0]
		}
		if file == "" {
			file = filepath.Join(dir, "Dockerfile")
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		g, err := buildgraph.Parse(data, buildgraph.Options{Filename: file, SkipLint: true})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, t := range g.Targets() {
			if t.Name == "" || !strings.HasPrefix(strings.ToLower(t.Name), strings.ToLower(toComplete)) {
				continue
			}
			out = append(out, cobra.CompletionWithDesc(t.Name, buildgraph.FirstLine(t.Description)))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeBuilders completes --builder with the builders of buildx's store
// and "default", the Docker context buildx always offers.
func completeBuilders(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	bs, _ := engine.DefaultBuildxStore().List()
	for _, b := range bs {
		if strings.HasPrefix(b.Name, toComplete) {
			out = append(out, cobra.CompletionWithDesc(b.Name, b.Driver))
		}
	}
	if strings.HasPrefix("default", toComplete) {
		out = append(out, cobra.CompletionWithDesc("default", "docker"))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completePlatforms completes --platform with the platforms the engine's
// workers serve, asking the engine the command line chooses.
func completePlatforms(f *buildFlags) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Second)
		defer cancel()
		opts := f.engine.options()
		var plats []string
		if c := engine.Candidates(opts)[0]; c.Builder != nil && len(c.Builder.Nodes) > 1 {
			// A builder of several nodes serves what any of them does.
			for i := range c.Builder.Nodes {
				plats = append(plats, enginePlatforms(ctx, func() (*engine.Engine, error) { return engine.ConnectNode(ctx, c.Builder, i, opts) })...)
			}
		} else {
			plats = enginePlatforms(ctx, func() (*engine.Engine, error) { return engine.Connect(ctx, opts) })
		}
		seen := map[string]bool{}
		var out []cobra.Completion
		for _, p := range plats {
			if !seen[p] && strings.HasPrefix(p, toComplete) {
				seen[p] = true
				out = append(out, p)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// enginePlatforms is what the engine connect reaches says it serves.
func enginePlatforms(ctx context.Context, connect func() (*engine.Engine, error)) []string {
	e, err := connect()
	if err != nil {
		return nil
	}
	defer e.Close()
	d, err := e.Describe(ctx)
	if err != nil {
		return nil
	}
	return d.Platforms
}
