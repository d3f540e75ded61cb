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
	"github.com/stagescope/stagescope/internal/crash"
	"github.com/stagescope/stagescope/pipeline"
)

// budgetError is one or more targets over their size budget (exit code 1).
type budgetError struct{ over []buildgraph.TargetResult }

func (e *budgetError) Error() string {
	var parts []string
	for _, r := range e.over {
		name := r.Target
		if r.Platform != "" {
			name += " (" + r.Platform + ")"
		}
		parts = append(parts, fmt.Sprintf("%s is %s, over its budget of %s",
			name, buildgraph.HumanSize(r.Size.Uncompressed), buildgraph.HumanSize(r.Budget)))
	}
	return strings.Join(parts, "; ")
}

func newCompareCmd() *cobra.Command {
	var f buildFlags
	var (
		targets []string
		all     bool
		format  string
		budgets []string
		prog    string
	)
	cmd := &cobra.Command{
		Use:   "compare [CONTEXT]",
		Short: "Build several targets and compare their image sizes",
		Long: `Build several targets of one Dockerfile concurrently, in one session that
uploads the context once and runs shared stages once, then measure every
image and compare them: uncompressed and compressed size, layers, build
time, cached steps, and the difference to the largest.

Sizes are read from the image store (Docker) or the engine's content store
(buildkitd), never by exporting images. Results are recorded with
every build (see stagescope history) so later runs show the change since
last time.

--platform a,b builds each target once for both platforms (an image index
on a buildkitd) and gives a row per target and platform; the index's
attestations (--provenance) are listed under the image they attest.
Docker's classic image store holds one platform per tag: there, build per
platform (docs/platforms.md).

--budget TARGET=SIZE fails (exit code 1) when the target's uncompressed image
is larger than SIZE (KB, MB, GB are powers of 1000; KiB, MiB, GiB of 1024).

` + exitCodesHelp,
		Example: `  stagescope compare examples/hello-multistage --all \
      --build-context golang=$(scripts/offline-bases dir golang)
  stagescope compare . --targets builder,runtime --budget runtime=50MB --format markdown`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch format {
			case "table", "json", "markdown":
			default:
				return usagef("--format %q: want table, json or markdown", format)
			}
			limits := map[string]int64{}
			for _, b := range budgets {
				t, v, ok := strings.Cut(b, "=")
				if !ok || t == "" {
					return usagef("--budget %q: want TARGET=SIZE, for example runtime=50MB", b)
				}
				n, err := buildgraph.ParseSize(v)
				if err != nil {
					return usagef("--budget %s: %v", t, err)
				}
				limits[t] = n
			}
			mode, err := progressMode(prog)
			if err != nil {
				return err
			}
			if mode == "json" {
				return usagef("--progress json is for build; compare prints its result with --format json")
			}
			proj, err := f.project(args)
			if err != nil {
				return err
			}
			names, err := compareTargets(proj.Graph, targets, all)
			if err != nil {
				return err
			}
			var plans []*pipeline.Plan
			for _, t := range names {
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
			for t := range limits {
				if !hasTarget(plans, t) {
					return usagef("--budget %s: %s is not among the compared targets", t, t)
				}
			}
			c, err := runCompare(cmd.Context(), cmd, f.engineOptions(), proj, plans, mode)
			if err != nil {
				return err
			}
			over := c.ApplyBudgets(limits)
			out := cmd.OutOrStdout()
			now := time.Now()
			switch format {
			case "json":
				err = c.WriteJSON(out)
			case "markdown":
				err = c.WriteMarkdown(out, now)
			default:
				err = c.WriteTable(out, now)
			}
			if err != nil {
				return err
			}
			for _, r := range c.Results {
				if r.Error != "" {
					return &engine.BuildError{Err: errors.New(r.Target + ": " + r.Error), ExitCode: -1}
				}
			}
			if len(over) > 0 {
				return &budgetError{over: over}
			}
			return nil
		},
	}
	f.register(cmd, false)
	fs := cmd.Flags()
	fs.StringSliceVar(&targets, "targets", nil, "targets to compare, comma-separated (default: every target)")
	fs.BoolVar(&all, "all", false, "compare every target: each named stage and the last stage")
	fs.StringVar(&format, "format", "table", "output: table, json or markdown")
	fs.StringArrayVar(&budgets, "budget", nil, "fail when `TARGET=SIZE` is exceeded (uncompressed; e.g. runtime=50MB)")
	fs.StringVar(&prog, "progress", "", "build progress on stderr: auto, tty, plain, rawjson or quiet (default $BUILDKIT_PROGRESS, else auto)")
	return cmd
}

func hasTarget(plans []*pipeline.Plan, t string) bool {
	for _, p := range plans {
		if strings.EqualFold(p.Target, t) {
			return true
		}
	}
	return false
}

// compareTargets resolves --targets/--all into target names (the last,
// unnamed stage by its BuildKit name).
func compareTargets(g *buildgraph.Graph, targets []string, all bool) ([]string, error) {
	if all && len(targets) > 0 {
		return nil, usagef("--all and --targets go separately")
	}
	if len(targets) > 0 {
		seen := map[string]bool{}
		var out []string
		for _, t := range targets {
			t = strings.TrimSpace(t)
			if t == "" || seen[strings.ToLower(t)] {
				continue
			}
			seen[strings.ToLower(t)] = true
			out = append(out, t)
		}
		return out, nil
	}
	var out []string
	for _, t := range g.Targets() {
		out = append(out, g.Stages[t.Stage].Name)
	}
	return out, nil
}

// runCompare builds every plan concurrently in one session, shows their
// progress as one display, and returns the measured comparison.
func runCompare(ctx context.Context, cmd *cobra.Command, opts engine.Options, proj *pipeline.Project, plans []*pipeline.Plan, mode string) (*buildgraph.Comparison, error) {
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
	popts := pipeline.Options{Measure: true, History: store}
	o := display.follow(ctx, pipeline.Start(ctx, sess, proj, plans, popts))
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	for _, err := range o.Errs {
		// A bug (exit 70), a lost engine (exit 3) and a request the engine
		// cannot take (exit 2: several platforms for Docker's classic
		// store) end the command; a failed build is a row of the table.
		if errors.As(err, new(*crash.Error)) || errors.As(err, new(*engine.LostError)) || errors.As(err, new(*engine.InputError)) {
			return nil, err
		}
	}
	notRecorded(stderr, o.SaveErr)
	// A build for several platforms: a row per target and platform.
	return &buildgraph.Comparison{File: proj.Dockerfile, Engine: sess.Describe(), Results: proj.PlatformResults(plans, o.Results)}, nil
}
