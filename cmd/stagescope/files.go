package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/filetree"
	"github.com/stagescope/stagescope/pipeline"
)

func newFilesCmd() *cobra.Command {
	var f buildFlags
	var (
		target, format, diff, stage, sortBy, prog string
		layer, depth                              int
	)
	cmd := &cobra.Command{
		Use:   "files [CONTEXT]",
		Short: "The files of a target's image, by layer, instruction and stage",
		Long: `Build a target (BuildKit's cache makes this quick when nothing changed)
and list the files of its image: every path with its size, mode and type,
the layer that wrote it, that layer's instruction, Dockerfile line and stage
(for COPY --from, the stage it copies from), and what later layers deleted
or overwrote: still in the image's layers, seen by no one, counted as
wasted.

Layer data is read from the engine without exporting the image: from a
buildkitd's content store, or from Docker's image store as it streams the
image. Each layer's entries are remembered by digest in the state folder
($XDG_STATE_HOME/stagescope/layer-files), so listing an image again reads
nothing.

--diff OTHER builds OTHER too and lists what its image holds that the
target's does not: for a builder stage, what the final image leaves behind.
--layer N (as numbered in the LAYER table) and --stage S (a stage name, or
"base" for the base image's layers) show only what that layer or stage put
into the image.

Names are shown as they are when printable; a name with an escape sequence,
a control character or bytes that are not UTF-8 is shown quoted, as Go
quotes strings ("a\x1b[31mb"). The JSON is described in docs/files-json.md.

` + exitCodesHelp,
		Example: `  stagescope files examples/hello-multistage \
      --build-context golang=$(scripts/offline-bases dir golang)
  stagescope files examples/hello-multistage --diff builder --depth 3 \
      --build-context golang=$(scripts/offline-bases dir golang)
  stagescope files . --target runtime --stage builder --format json`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch format {
			case "tree", "json":
			default:
				return usagef("--format %q: want tree or json", format)
			}
			order := filetree.BySize
			switch sortBy {
			case "size":
			case "name":
				order = filetree.ByName
			default:
				return usagef("--sort %q: want size or name", sortBy)
			}
			if depth < 0 {
				return usagef("--depth %d: want 0 (everything) or more", depth)
			}
			mode, err := progressMode(prog)
			if err != nil {
				return err
			}
			if mode == "json" {
				return usagef("--progress json is for build; files prints its result with --format json")
			}
			proj, err := f.project(args)
			if err != nil {
				return err
			}
			if stage != "" && !strings.EqualFold(stage, "base") {
				st, ok := proj.Graph.Stage(stage)
				if !ok {
					return usagef("--stage %s: no such stage in %s (stages: %s, or base)", stage, proj.Dockerfile, graphStageNames(proj.Graph))
				}
				stage = st.Name
			}
			var plans []*pipeline.Plan
			for _, t := range []string{target, diff} {
				if t == "" && len(plans) > 0 {
					break
				}
				p, err := proj.Plan(t, nil)
				if err != nil {
					return err
				}
				p.Request.Keep = true
				plans = append(plans, p)
			}
			if err := proj.CheckWide(cmd.ErrOrStderr(), "--yes"); err != nil {
				return err
			}
			trees, err := buildAndReadFiles(cmd.Context(), cmd, f.engine.options(), proj, plans, mode)
			if err != nil {
				return err
			}
			v := &filetree.View{Image: trees[0].image, Target: plans[0].Target, Tree: trees[0].tree}
			var filters []string
			keep := func(*filetree.Node) bool { return true }
			if layer >= 0 {
				if n := len(v.Tree.Layers); layer >= n {
					return usagef("--layer %d: the image of %s has %d layers (0 to %d)", layer, plans[0].Target, n, n-1)
				}
				filters = append(filters, fmt.Sprintf("layer %d", layer))
				keep = func(n *filetree.Node) bool { return n.Layer == layer }
			}
			if stage != "" {
				filters = append(filters, "stage "+stage)
				byLayer := keep
				keep = func(n *filetree.Node) bool {
					return byLayer(n) && n.Layer >= 0 && n.Layer < len(v.Tree.Layers) && strings.EqualFold(v.Tree.Layers[n.Layer].Label(), stage)
				}
			}
			v.Shown = v.Tree.Root
			if len(filters) > 0 {
				v.Shown, v.Filter = v.Tree.Root.Filter(keep), strings.Join(filters, " and ")
			}
			if len(trees) > 1 {
				v.Diff, v.DiffLayers = filetree.Diff(trees[1].tree, v.Tree), trees[1].tree.Layers
				v.DiffTarget, v.DiffImage = plans[1].Target, trees[1].image
			}
			if format == "json" {
				return v.WriteJSON(cmd.OutOrStdout())
			}
			return v.WriteText(cmd.OutOrStdout(), filetree.TextOptions{Sort: order, Depth: depth})
		},
	}
	f.register(cmd, false)
	fs := cmd.Flags()
	fs.StringVar(&target, "target", "", "stage whose image to list (default: the last stage)")
	fs.StringVar(&format, "format", "tree", "output: tree or json")
	fs.StringVar(&diff, "diff", "", "also build `OTHER` and list what its image holds that the target's does not")
	fs.IntVar(&layer, "layer", -1, "show only what layer `N` put into the image (as the LAYER table numbers them)")
	fs.StringVar(&stage, "stage", "", "show only what stage `S` put into the image (base: the base image's layers)")
	fs.StringVar(&sortBy, "sort", "size", "order of a directory's entries: size (largest first) or name")
	fs.IntVar(&depth, "depth", 0, "draw directories `N` levels deep at most (0: all); deeper files count in their directory's size")
	fs.StringVar(&prog, "progress", "", "build progress on stderr: auto, tty, plain, rawjson or quiet (default $BUILDKIT_PROGRESS, else auto)")
	return cmd
}

func graphStageNames(g *buildgraph.Graph) string {
	var names []string
	for _, s := range g.Stages {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}

type builtTree struct {
	image string
	tree  *filetree.Tree
}

// buildAndReadFiles builds the plans in one session and reads the files of
// each image.
func buildAndReadFiles(ctx context.Context, cmd *cobra.Command, opts engine.Options, proj *pipeline.Project, plans []*pipeline.Plan, mode string) ([]builtTree, error) {
	sess, err := pipeline.Connect(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	stderr := cmd.ErrOrStderr()
	display, err := newProgressSink(stderr, mode)
	if err != nil {
		return nil, err
	}
	store, err := historyStore()
	if err != nil {
		return nil, err
	}
	o := display.follow(ctx, pipeline.Start(ctx, sess, proj, plans, pipeline.Options{History: store}))
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	if err := o.Err(); err != nil {
		return nil, err
	}
	notRecorded(stderr, o.Recorded())
	out := make([]builtTree, len(plans))
	for i, p := range plans {
		start := time.Now()
		var read, total int64
		tree, err := pipeline.Files(ctx, sess, p, o.Built[i], func(d, t int64) { read, total = d, t })
		if err != nil {
			if ctx.Err() != nil {
				return nil, context.Cause(ctx)
			}
			var lost *engine.LostError
			if errors.As(err, &lost) {
				return nil, err
			}
			return nil, fmt.Errorf("reading the files of %s: %w", p.Target, err)
		}
		if mode != "quiet" {
			what := "layers remembered, nothing read"
			if total > 0 {
				what = fmt.Sprintf("%s of layer data read", buildgraph.HumanSize(read))
			}
			fmt.Fprintf(stderr, "files of %s: %s (%s)\n", p.Target, what, time.Since(start).Round(time.Millisecond))
		}
		out[i] = builtTree{image: o.Built[i].Image, tree: tree}
	}
	return out, nil
}
