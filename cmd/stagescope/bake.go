package main

import (
	"context"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stagescope/stagescope/bake"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/pipeline"
)

// bakeLookup is the value of --bake given without a file: look up buildx's
// default bake files in the working folder.
const bakeLookup = "."

// bakeFileAndNames splits what --bake was given, and the arguments after
// it, into the bake file ("" to look up the default ones) and the targets
// and groups named. With --bake alone the first argument is the file when
// it is a file, or could not name a target (target names have no dots or
// slashes).
func bakeFileAndNames(bakeArg string, args []string) (string, []string) {
	file := bakeArg
	if file == bakeLookup {
		file = ""
		if len(args) > 0 {
			st, err := os.Stat(args[0])
			if err == nil && !st.IsDir() || !bake.ValidName(args[0]) {
				file, args = args[0], args[1:]
			}
		}
	}
	return file, args
}

// bakeProjects loads the bake targets --bake and the arguments name, with
// the build flags applied over each target's own settings.
func (f *buildFlags) bakeProjects(bakeArg string, args []string) ([]*pipeline.Project, error) {
	file, names := bakeFileAndNames(bakeArg, args)
	return pipeline.LoadBake(f.input(), file, names)
}

// bakeBudgets lets --budget name a bake target alone (app=50MB): its key
// becomes the NAME:TARGET of the target's row.
func bakeBudgets(projs []*pipeline.Project, limits map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(limits))
	for k, v := range limits {
		out[k] = v
		for _, p := range projs {
			if p.Bake != nil && strings.EqualFold(p.Name, k) {
				delete(out, k)
				out[p.Name+":"+p.Graph.Stages[p.Stage].Name] = v
			}
		}
	}
	return out
}

// connectBake connects to the engine for the projects: for bake targets
// with no --platform, by their platforms as buildx sends them, each target
// to the node of a builder that serves its platform
// (pipeline.ConnectPlatforms); else as any build connects.
func connectBake(ctx context.Context, opts engine.Options, projs []*pipeline.Project) (pipeline.Session, error) {
	if opts.Platform != "" {
		return pipeline.Connect(ctx, opts)
	}
	plats := make([]string, len(projs))
	for i, p := range projs {
		if p.Bake == nil {
			return pipeline.Connect(ctx, opts)
		}
		plats[i] = p.Base.Platform
	}
	return pipeline.ConnectPlatforms(ctx, opts, plats)
}

// completeBakeArgs completes the arguments of compare --bake with the
// groups and targets of the bake file; without --bake as before (the
// shell's own completion).
func completeBakeArgs(bakeArg *string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if !cmd.Flags().Changed("bake") {
			return nil, cobra.ShellCompDirectiveDefault
		}
		file, _ := bakeFileAndNames(*bakeArg, args)
		c, err := pipeline.ParseBake(file)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, n := range c.Names() {
			if !strings.HasPrefix(n.Name, toComplete) {
				continue
			}
			desc := n.Description
			if desc == "" && n.Group {
				desc = "group"
			}
			out = append(out, cobra.CompletionWithDesc(n.Name, desc))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
