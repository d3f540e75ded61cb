package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
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
		name := r.Label()
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
		bakeArg string
	)
	cmd := &cobra.Command{
		Use:   "compare [CONTEXT...]",
		Short: "Build several targets and compare their image sizes",
		Long: `Build several targets of one Dockerfile concurrently, in one session that
uploads the context once and runs shared stages once, then measure every
image and compare them: uncompressed and compressed size, layers, build
time, cached steps, and the difference to the largest.

Several Dockerfiles go in one table, every target of every file, in the
order given, each row naming its file:
  compare DIR1 DIR2 ...     each folder is the build context of its own
                            Dockerfile
  compare FOLDER            a folder without a Dockerfile whose subfolders
                            have one (a folder of examples): each subfolder,
                            in name order, as above
  compare -f A -f B [CTX]   several Dockerfiles with the one context CTX
                            (default .)
A file is called by its folder's name (FOLDER/FILE for a Dockerfile not
called Dockerfile), and a target of one file NAME:TARGET in --targets and
--budget (java-multistage:runtime); a bare TARGET means that target of every
file that has it; without --targets (or with --all) every target of every
file is compared. --build-arg and --build-context go to every file.

With --bake the targets of a bake file are compared, as docker buildx bake
reads it (HCL or JSON, variables, functions, inherits, matrix, groups):
  compare --bake [FILE] [TARGET|GROUP...]
FILE is docker-bake.hcl or .json (--bake alone merges buildx's default
files of the working folder: docker-bake.json, docker-bake.hcl and their
.override forms), the names default to the group "default". Each bake
target is a row NAME:STAGE built with its own context, Dockerfile, target
stage, args, contexts and platform (one per target; --platform chooses one
for a target that lists several); --budget NAME=SIZE names a bake target.
On a buildx builder of several nodes each target builds on the node of its
platform, as buildx sends it (the JSON's rows name their node).
A bad bake file is reported with its file:line (exit code 2).

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
  stagescope compare . --targets builder,runtime --budget runtime=50MB --format markdown
  stagescope compare examples/java-single-stage examples/java-multistage \
      --build-context eclipse-temurin:17-jdk=$(scripts/offline-bases dir jdk17) \
      --build-context eclipse-temurin:17-jre=$(scripts/offline-bases dir jre17) \
      --budget java-multistage:runtime=300MB
  stagescope compare --bake docker-bake.hcl app tool --budget app=50MB`,
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
			var projs []*pipeline.Project
			if cmd.Flags().Changed("bake") {
				if len(targets) > 0 || all || len(f.files) > 0 {
					return usagef("--bake names its targets and groups after the file: --targets, --all and -f go without it")
				}
				projs, err = f.bakeProjects(bakeArg, args)
				limits = bakeBudgets(projs, limits)
			} else {
				projs, err = f.projects(args)
			}
			if err != nil {
				return err
			}
			if len(projs) > 1 && len(projs[0].Platforms) > 1 {
				return usagef("--platform %s: several platforms compare the targets of one Dockerfile; give one platform with several Dockerfiles or bake targets", strings.Join(projs[0].Platforms, ","))
			}
			plans, err := comparePlans(projs, targets, all)
			if err != nil {
				return err
			}
			for _, p := range plans {
				p.Request.Keep = true
			}
			for _, proj := range projs {
				if err := proj.CheckWide(cmd.ErrOrStderr(), "--yes"); err != nil {
					return err
				}
			}
			for t := range limits {
				if !hasTarget(plans, t) {
					return usagef("--budget %s: %s is not among the compared targets", t, t)
				}
			}
			c, err := runCompare(cmd.Context(), cmd, f.engineOptions(), projs, plans, mode)
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
					return &engine.BuildError{Err: errors.New(r.Label() + ": " + r.Error), ExitCode: -1}
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
	fs.StringVar(&bakeArg, "bake", "", "compare the targets of a bake `FILE` (docker-bake.hcl or .json; --bake alone looks up buildx's default files): arguments are then [FILE] [TARGET|GROUP...], default group \"default\"")
	fs.Lookup("bake").NoOptDefVal = bakeLookup
	_ = cmd.RegisterFlagCompletionFunc("bake", cobra.FixedCompletions([]cobra.Completion{"hcl", "json"}, cobra.ShellCompDirectiveFilterFileExt))
	cmd.ValidArgsFunction = completeBakeArgs(&bakeArg)
	fs.StringVar(&prog, "progress", "", "build progress on stderr: auto, tty, plain, rawjson, json (stagescope's events, measuring included) or quiet (default $BUILDKIT_PROGRESS, else auto)")
	return cmd
}

// hasTarget reports whether t, a TARGET or NAME:TARGET, names a plan.
func hasTarget(plans []*pipeline.Plan, t string) bool {
	for _, p := range plans {
		if strings.EqualFold(p.Target, t) || p.Project != nil && p.Project.Name != "" && strings.EqualFold(p.Project.Name+":"+p.Target, t) {
			return true
		}
	}
	return false
}

// comparePlans resolves --targets/--all into the plans of one Dockerfile
// or of several: every target of every file by default, in order; a
// NAME:TARGET of --targets is a target of the file called NAME, a bare
// TARGET that target of every file that has it.
func comparePlans(projs []*pipeline.Project, targets []string, all bool) ([]*pipeline.Plan, error) {
	if len(projs) == 1 && projs[0].Name == "" {
		proj := projs[0]
		names, err := compareTargets(proj.Graph, targets, all)
		if err != nil {
			return nil, err
		}
		var plans []*pipeline.Plan
		for _, t := range names {
			p, err := proj.Plan(t, nil)
			if err != nil {
				return nil, err
			}
			plans = append(plans, p)
		}
		return plans, nil
	}
	if all && len(targets) > 0 {
		return nil, usagef("--all and --targets go separately")
	}
	type pick struct {
		proj   *pipeline.Project
		target string
	}
	var picks []pick
	if len(targets) == 0 {
		for _, proj := range projs {
			for _, t := range proj.Targets() {
				picks = append(picks, pick{proj, proj.Graph.Stages[t.Stage].Name})
			}
		}
	}
	var names []string
	for _, p := range projs {
		names = append(names, p.Name)
	}
	for _, t := range targets {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if i := strings.LastIndex(t, ":"); i >= 0 {
			name, target := t[:i], t[i+1:]
			proj := projectNamed(projs, name)
			if proj == nil {
				return nil, usagef("--targets %s: no compared Dockerfile is called %s; they are %s", t, name, strings.Join(names, ", "))
			}
			if target == "" {
				return nil, usagef("--targets %s: want NAME:TARGET, for example %s:%s", t, proj.Name, proj.Graph.Stages[len(proj.Graph.Stages)-1].Name)
			}
			picks = append(picks, pick{proj, target})
			continue
		}
		found := false
		for _, proj := range projs {
			if _, ok := proj.Graph.Stage(t); ok {
				picks = append(picks, pick{proj, t})
				found = true
			}
		}
		if !found {
			return nil, usagef("--targets %s: none of the compared Dockerfiles (%s) has a stage %s; name one file's target as NAME:TARGET", t, strings.Join(names, ", "), t)
		}
	}
	var plans []*pipeline.Plan
	seen := map[string]bool{}
	for _, pk := range picks {
		p, err := pk.proj.Plan(pk.target, nil)
		if err != nil {
			return nil, usagef("--targets %s:%s: %s", pk.proj.Name, pk.target, buildgraph.FirstLine(err.Error()))
		}
		key := pk.proj.Name + "\x00" + pk.proj.Dockerfile + "\x00" + strings.ToLower(p.Target)
		if seen[key] {
			continue
		}
		seen[key] = true
		plans = append(plans, p)
	}
	return plans, nil
}

// projectNamed finds the project called name (its Name, or its Dockerfile
// as given).
func projectNamed(projs []*pipeline.Project, name string) *pipeline.Project {
	for _, p := range projs {
		if strings.EqualFold(p.Name, name) {
			return p
		}
	}
	for _, p := range projs {
		if filepath.Clean(p.Dockerfile) == filepath.Clean(name) {
			return p
		}
	}
	return nil
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

// runCompare builds every plan concurrently in one session (of several
// nodes of a builder for bake targets of different platforms), shows their
// progress as one display, and returns the measured comparison.
func runCompare(ctx context.Context, cmd *cobra.Command, opts engine.Options, projs []*pipeline.Project, plans []*pipeline.Plan, mode string) (*buildgraph.Comparison, error) {
	proj := projs[0]
	sess, err := connectBake(ctx, opts, projs)
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
	run := pipeline.Start(ctx, sess, proj, plans, popts)
	o := display.follow(ctx, run)
	display.finishMeasured(run, o)
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
	notRecorded(stderr, o.Recorded())
	// A build for several platforms: a row per target and platform.
	c := &buildgraph.Comparison{File: proj.Dockerfile, Engine: sess.Describe(), Results: proj.PlatformResults(plans, o.Results)}
	if ns, ok := sess.(*pipeline.NodeSessions); ok && len(c.Results) == len(plans) {
		for i := range c.Results {
			c.Results[i].Node = ns.NodeOf(plans[i].Request.Platform)
		}
	}
	if proj.Name != "" {
		for _, p := range projs {
			c.Files = append(c.Files, p.Dockerfile)
		}
	}
	return c, nil
}
