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
		rebuild                                   bool
	)
	cmd := &cobra.Command{
		Use:   "files [CONTEXT]",
		Short: "The files of a target's image, by layer, instruction and stage",
		Long: `List the files of a target's image: every path with its size, mode and type,
the layer that wrote it, that layer's instruction, Dockerfile line and stage
(for COPY --from, the stage it copies from), and what later layers deleted
or overwrote: still in the image's layers, seen by no one, counted as
wasted.

The image is the one the target's last build stored when it is still
current, else a build is run first (BuildKit's cache keeps it short). It
is current when the build records (stagescope history) hold a successful
build of the target on this engine (same kind and address) with the same
Dockerfile text, build arguments, named contexts and platform, no file or
folder of the build context that is sent (what .dockerignore leaves out,
such as .git, does not count) nor of a folder given with --build-context
changed since that build started (by change time, so a copy that keeps
old modification times counts), and the engine still holds that image: a
buildkitd its manifest in the content store, Docker an image with that ID.
--no-cache, --secret, --ssh and a build argument that looks like a secret
(not recorded) always build. A base image named by a reference is not
looked up again: --rebuild builds in any case. Stderr says which it did
(unless --progress quiet).

Layer data is read from the engine without exporting the image: from a
buildkitd's content store, or from Docker's image store as it streams the
image. Each layer's entries are remembered by digest in the state folder
($XDG_STATE_HOME/stagescope/layer-files), so listing an image again reads
nothing.

--diff OTHER reads OTHER's image too (building it when it is not current) and lists what its image holds that the
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
			trees, err := buildAndReadFiles(cmd.Context(), cmd, f.engine.options(), proj, plans, mode, rebuild)
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
	fs.StringVar(&diff, "diff", "", "also read `OTHER`'s image (built when not current) and list what it holds that the target's does not")
	fs.IntVar(&layer, "layer", -1, "show only what layer `N` put into the image (as the LAYER table numbers them)")
	fs.StringVar(&stage, "stage", "", "show only what stage `S` put into the image (base: the base image's layers)")
	fs.StringVar(&sortBy, "sort", "size", "order of a directory's entries: size (largest first) or name")
	fs.IntVar(&depth, "depth", 0, "draw directories `N` levels deep at most (0: all); deeper files count in their directory's size")
	fs.BoolVar(&rebuild, "rebuild", false, "build the target even when the image of its last build is current")
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

// buildAndReadFiles reads the files of each plan's image: the image of
// its last build when that is still current (pipeline.CurrentImage; never
// with rebuild), else of a build of the plans that need one, in one
// session.
func buildAndReadFiles(ctx context.Context, cmd *cobra.Command, opts engine.Options, proj *pipeline.Project, plans []*pipeline.Plan, mode string, rebuild bool) ([]builtTree, error) {
	sess, err := pipeline.Connect(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	stderr := cmd.ErrOrStderr()
	say := func(format string, a ...any) {
		if mode != "quiet" {
			fmt.Fprintln(stderr, buildgraph.SanitizeLine(fmt.Sprintf(format, a...)))
		}
	}
	store, err := historyStore()
	if err != nil {
		return nil, err
	}
	out := make([]builtTree, len(plans))
	var build []int // the plans to build
	for i, p := range plans {
		if rebuild {
			build = append(build, i)
			continue
		}
		cur := pipeline.CurrentImage(ctx, sess, store, p)
		if cur.Result == nil {
			say("files of %s: building it: %s", p.Target, cur.Why)
			build = append(build, i)
			continue
		}
		say("files of %s: not built again: nothing changed since the build of %s (record %s; --rebuild builds)",
			p.Target, cur.Record.Time.Local().Format("2006-01-02 15:04:05"), cur.Record.ID[:min(len(cur.Record.ID), 12)])
		tree, err := readFiles(ctx, sess, p, cur.Result, say)
		if err != nil {
			if ctx.Err() != nil {
				return nil, context.Cause(ctx)
			}
			var lost *engine.LostError
			if errors.As(err, &lost) {
				return nil, err
			}
			say("files of %s: building it: the image of its last build cannot be read (%s)", p.Target, buildgraph.FirstLine(err.Error()))
			build = append(build, i)
			continue
		}
		out[i] = builtTree{image: cur.Result.Image, tree: tree}
	}
	if len(build) == 0 {
		return out, nil
	}
	if err := proj.CheckWide(stderr, "--yes"); err != nil {
		return nil, err
	}
	var todo []*pipeline.Plan
	for _, i := range build {
		todo = append(todo, plans[i])
	}
	display, err := newProgressSink(stderr, mode)
	if err != nil {
		return nil, err
	}
	o := display.follow(ctx, pipeline.Start(ctx, sess, proj, todo, pipeline.Options{History: store}))
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	if err := o.Err(); err != nil {
		return nil, err
	}
	notRecorded(stderr, o.Recorded())
	for j, i := range build {
		tree, err := readFiles(ctx, sess, plans[i], o.Built[j], say)
		if err != nil {
			if ctx.Err() != nil {
				return nil, context.Cause(ctx)
			}
			var lost *engine.LostError
			if errors.As(err, &lost) {
				return nil, err
			}
			return nil, fmt.Errorf("reading the files of %s: %w", plans[i].Target, err)
		}
		out[i] = builtTree{image: o.Built[j].Image, tree: tree}
	}
	return out, nil
}

// readFiles reads the files of one image and says how much it read.
func readFiles(ctx context.Context, sess pipeline.Session, p *pipeline.Plan, res *engine.Result, say func(string, ...any)) (*filetree.Tree, error) {
	start := time.Now()
	var read, total int64
	tree, err := pipeline.Files(ctx, sess, p, res, func(d, t int64) { read, total = d, t })
	if err != nil {
		return nil, err
	}
	what := "layers remembered, nothing read"
	if total > 0 {
		what = fmt.Sprintf("%s of layer data read", buildgraph.HumanSize(read))
	}
	say("files of %s: %s (%s)", p.Target, what, time.Since(start).Round(time.Millisecond))
	return tree, nil
}
